// Package contacts is the domain of the Contacts tab: contacts and their
// profiles, notes, tags and visibility. It validates input, enforces the
// permission matrix and declares the Store it needs; it never sees DynamoDB.
package contacts

import (
	"time"
)

// Kind says whether a person has bought or been granted an offer.
type Kind string

const (
	KindContact  Kind = "contact"
	KindCustomer Kind = "customer"
)

// Subscription statuses for marketing email.
const (
	Subscribed      = "subscribed"
	NeverSubscribed = "never_subscribed"
	Unsubscribed    = "unsubscribed"
)

// Address is a contact's postal address; every part is optional.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// Subscription is the contact's marketing-email status, why and since when.
type Subscription struct {
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Contact is one person on a site's list: the profile's stored record.
type Contact struct {
	ID           string       `json:"id"`
	Site         string       `json:"-"`
	Email        string       `json:"email"` // as given (trimmed), for display
	EmailKey     string       `json:"-"`     // normalized: the uniqueness claim
	Name         string       `json:"name"`
	Phone        string       `json:"phone,omitempty"`
	Company      string       `json:"company,omitempty"`
	Address      *Address     `json:"address,omitempty"`
	Kind         Kind         `json:"kind"`
	Source       string       `json:"source"`
	AddedAt      time.Time    `json:"addedAt"`
	StartDate    time.Time    `json:"startDate"`
	Subscription Subscription `json:"subscription"`
	Tags         []string     `json:"tags"`
	Hidden       bool         `json:"hidden"`
	Version      int64        `json:"version"`
	UpdatedAt    time.Time    `json:"updatedAt"`

	// The customer's side: set once they buy or are granted an offer.
	CustomerSince  *time.Time `json:"customerSince"`
	ExternalID     string     `json:"externalId,omitempty"`
	Muted          bool       `json:"muted"`
	PurchasesCount int64      `json:"purchasesCount"`
	SignInCount    int64      `json:"signInCount"`
	LastActivityAt *time.Time `json:"lastActivityAt"`
}

// Note is a private remark an account user keeps on a contact.
type Note struct {
	ID          string    `json:"id"`
	Body        string    `json:"body"`
	AuthorEmail string    `json:"authorEmail"`
	AuthorRole  string    `json:"authorRole"`
	AuthorSub   string    `json:"-"`
	CreatedAt   time.Time `json:"createdAt"`
}

// LifecycleEntry is one thing that happened to or was done by a person.
type LifecycleEntry struct {
	ID     string            `json:"id"`
	Type   string            `json:"type"`
	At     time.Time         `json:"at"`
	Detail map[string]string `json:"detail,omitempty"`
	// ExpiresAt is when the entry leaves the lifecycle (the item's TTL).
	ExpiresAt time.Time `json:"-"`
}

// Lifecycle entry types written at this stage.
const (
	EventContactAdded = "contact_added"
)

// Profile is everything the full contact profile shows.
type Profile struct {
	Contact
	LifespanDays  int              `json:"lifespanDays"`
	Notes         []Note           `json:"notes"`
	Lifecycle     []LifecycleEntry `json:"lifecycle"`
	Purchases     []Purchase       `json:"purchases"`
	ProductsOwned []Product        `json:"productsOwned"`
	// NetRevenue is purchases less refunds, in minor units per currency.
	// Absent (nil) for roles that may not see financial data.
	NetRevenue map[string]int64 `json:"netRevenue,omitzero"`
}

// TagCount is one of a site's tags and how many contacts carry it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

// Page is one page of a list with the opaque cursor of the next, if any.
type Page[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// LifespanDays counts whole calendar days from start to now in the site's
// time zone: a contact added late yesterday evening (site time) is 1 day old
// this morning.
func LifespanDays(start, now time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	s := start.In(loc)
	n := now.In(loc)
	sd := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
	nd := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	days := int(nd.Sub(sd).Hours() / 24)
	if days < 0 {
		return 0
	}
	return days
}
