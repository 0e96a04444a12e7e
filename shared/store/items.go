package store

import (
	"strings"
	"time"

	"github.com/creator-platform/contacts/shared/contacts"
)

// timeFormat is UTC at a fixed width, so stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// profileItem is a contact's PROFILE item.
type profileItem struct {
	PK        string            `dynamodbav:"PK"`
	SK        string            `dynamodbav:"SK"`
	GSI1PK    string            `dynamodbav:"GSI1PK"`
	GSI1SK    string            `dynamodbav:"GSI1SK"`
	GSI2PK    string            `dynamodbav:"GSI2PK"`
	GSI2SK    string            `dynamodbav:"GSI2SK"`
	GSI3PK    string            `dynamodbav:"GSI3PK"`
	GSI3SK    string            `dynamodbav:"GSI3SK"`
	Type      string            `dynamodbav:"type"`
	ID        string            `dynamodbav:"id"`
	Email     string            `dynamodbav:"email"`
	EmailKey  string            `dynamodbav:"emailKey"`
	Name      string            `dynamodbav:"name"`
	Phone     string            `dynamodbav:"phone,omitempty"`
	Company   string            `dynamodbav:"company,omitempty"`
	Address   *contacts.Address `dynamodbav:"address,omitempty"`
	Kind      string            `dynamodbav:"kind"`
	Source    string            `dynamodbav:"source"`
	AddedAt   string            `dynamodbav:"addedAt"`
	StartDate string            `dynamodbav:"startDate"`
	SubStatus string            `dynamodbav:"subStatus"`
	SubReason string            `dynamodbav:"subReason,omitempty"`
	SubAt     string            `dynamodbav:"subAt"`
	Tags      []string          `dynamodbav:"tags,stringset,omitempty"`
	Hidden    bool              `dynamodbav:"hidden"`
	Version   int64             `dynamodbav:"version"`
	UpdatedAt string            `dynamodbav:"updatedAt"`
}

func nameKey(name string) string { return strings.ToLower(name) }

func newProfileItem(c contacts.Contact) profileItem {
	added := formatTime(c.AddedAt)
	tags := c.Tags
	if len(tags) == 0 {
		tags = nil // an empty set would be stored as NULL, which ADD cannot extend
	}
	return profileItem{
		PK: contactPK(c.Site, c.ID), SK: skProfile,
		GSI1PK: listPK(c.Site), GSI1SK: listSK(added, c.ID),
		GSI2PK: searchPK(c.Site), GSI2SK: c.EmailKey,
		GSI3PK: searchPK(c.Site), GSI3SK: nameSK(nameKey(c.Name), c.ID),
		Type: "contact", ID: c.ID, Email: c.Email, EmailKey: c.EmailKey, Name: c.Name,
		Phone: c.Phone, Company: c.Company, Address: c.Address,
		Kind: string(c.Kind), Source: c.Source, AddedAt: added, StartDate: formatTime(c.StartDate),
		SubStatus: c.Subscription.Status, SubReason: c.Subscription.Reason, SubAt: formatTime(c.Subscription.At),
		Tags: tags, Hidden: c.Hidden, Version: c.Version, UpdatedAt: formatTime(c.UpdatedAt),
	}
}

func (p profileItem) contact(site string) contacts.Contact {
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return contacts.Contact{
		ID: p.ID, Site: site, Email: p.Email, EmailKey: p.EmailKey, Name: p.Name,
		Phone: p.Phone, Company: p.Company, Address: p.Address,
		Kind: contacts.Kind(p.Kind), Source: p.Source,
		AddedAt: parseTime(p.AddedAt), StartDate: parseTime(p.StartDate),
		Subscription: contacts.Subscription{Status: p.SubStatus, Reason: p.SubReason, At: parseTime(p.SubAt)},
		Tags:         sortedCopy(tags), Hidden: p.Hidden, Version: p.Version, UpdatedAt: parseTime(p.UpdatedAt),
	}
}

// claimItem reserves an email (or, later, an external id) within a site.
type claimItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ContactID string `dynamodbav:"contactId"`
}

// noteItem is one note on a contact.
type noteItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	Body        string `dynamodbav:"body"`
	AuthorEmail string `dynamodbav:"authorEmail"`
	AuthorRole  string `dynamodbav:"authorRole"`
	AuthorSub   string `dynamodbav:"authorSub"`
	CreatedAt   string `dynamodbav:"createdAt"`
}

func (n noteItem) note() contacts.Note {
	return contacts.Note{ID: n.ID, Body: n.Body, AuthorEmail: n.AuthorEmail, AuthorRole: n.AuthorRole, AuthorSub: n.AuthorSub, CreatedAt: parseTime(n.CreatedAt)}
}

// tagItem puts a contact in its tag's segment (GSI1).
type tagItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK"`
	GSI1SK    string `dynamodbav:"GSI1SK"`
	Type      string `dynamodbav:"type"`
	Tag       string `dynamodbav:"tag"`
	ContactID string `dynamodbav:"contactId"`
}

func newTagItem(c contacts.Contact, tag string) tagItem {
	return tagItem{
		PK: contactPK(c.Site, c.ID), SK: tagSK(tag),
		GSI1PK: tagListPK(c.Site, tag), GSI1SK: listSK(formatTime(c.AddedAt), c.ID),
		Type: "tag", Tag: tag, ContactID: c.ID,
	}
}

// eventItem is one lifecycle entry; expiresAt makes DynamoDB trim it.
type eventItem struct {
	PK        string            `dynamodbav:"PK"`
	SK        string            `dynamodbav:"SK"`
	Type      string            `dynamodbav:"type"`
	ID        string            `dynamodbav:"id"`
	EventType string            `dynamodbav:"eventType"`
	At        string            `dynamodbav:"at"`
	Detail    map[string]string `dynamodbav:"detail,omitempty"`
	ExpiresAt int64             `dynamodbav:"expiresAt"`
}

func (e eventItem) entry() contacts.LifecycleEntry {
	return contacts.LifecycleEntry{ID: e.ID, Type: e.EventType, At: parseTime(e.At), Detail: e.Detail}
}

// registryItem counts a site's contacts carrying one tag.
type registryItem struct {
	SK    string `dynamodbav:"SK"`
	Tag   string `dynamodbav:"tag"`
	Count int64  `dynamodbav:"count"`
}
