package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	GSI3PK    string            `dynamodbav:"GSI3PK,omitempty"` // sparse: only named contacts
	GSI3SK    string            `dynamodbav:"GSI3SK,omitempty"`
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

	CustomerSince  string `dynamodbav:"customerSince,omitempty"`
	ExternalID     string `dynamodbav:"externalId,omitempty"`
	Muted          bool   `dynamodbav:"muted"`
	PurchasesCount int64  `dynamodbav:"purchasesCount"`
	SignInCount    int64  `dynamodbav:"signInCount"`
	LastActivityAt string `dynamodbav:"lastActivityAt,omitempty"`
}

func nameKey(name string) string { return strings.ToLower(name) }

func newProfileItem(c contacts.Contact) profileItem {
	added := formatTime(c.AddedAt)
	tags := c.Tags
	if len(tags) == 0 {
		tags = nil // an empty set would be stored as NULL, which ADD cannot extend
	}
	item := profileItem{
		PK: contactPK(c.Site, c.ID), SK: skProfile,
		GSI1PK: listPK(c.Site), GSI1SK: listSK(added, c.ID),
		GSI2PK: searchPK(c.Site), GSI2SK: c.EmailKey,
		GSI3PK: searchPK(c.Site), GSI3SK: nameSK(nameKey(c.Name), c.ID),
		Type: "contact", ID: c.ID, Email: c.Email, EmailKey: c.EmailKey, Name: c.Name,
		Phone: c.Phone, Company: c.Company, Address: c.Address,
		Kind: string(c.Kind), Source: c.Source, AddedAt: added, StartDate: formatTime(c.StartDate),
		SubStatus: c.Subscription.Status, SubReason: c.Subscription.Reason, SubAt: formatTime(c.Subscription.At),
		Tags: tags, Hidden: c.Hidden, Version: c.Version, UpdatedAt: formatTime(c.UpdatedAt),
		CustomerSince: formatOptional(c.CustomerSince), ExternalID: c.ExternalID, Muted: c.Muted,
		PurchasesCount: c.PurchasesCount, SignInCount: c.SignInCount, LastActivityAt: formatOptional(c.LastActivityAt),
	}
	if c.Name == "" {
		// No name, nothing to find by name: an empty name's key would be
		// "#<id>", which a search for "#" would match.
		item.GSI3PK, item.GSI3SK = "", ""
	}
	return item
}

func formatOptional(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

func parseOptional(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := parseTime(s)
	return &t
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
		CustomerSince: parseOptional(p.CustomerSince), ExternalID: p.ExternalID, Muted: p.Muted,
		PurchasesCount: p.PurchasesCount, SignInCount: p.SignInCount, LastActivityAt: parseOptional(p.LastActivityAt),
	}
}

// revenue reads the profile's net revenue attributes (rev_<currency>).
func revenue(item map[string]types.AttributeValue) map[string]int64 {
	out := map[string]int64{}
	for name, v := range item {
		cur, ok := strings.CutPrefix(name, "rev_")
		if !ok {
			continue
		}
		if n, isN := v.(*types.AttributeValueMemberN); isN {
			if amount, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				out[cur] = amount
			}
		}
	}
	return out
}

// purchaseItem is one purchase or grant on a contact.
type purchaseItem struct {
	PK         string             `dynamodbav:"PK"`
	SK         string             `dynamodbav:"SK"`
	Type       string             `dynamodbav:"type"`
	ID         string             `dynamodbav:"id"`
	ContactID  string             `dynamodbav:"contactId"`
	Kind       string             `dynamodbav:"kind"`
	OfferID    string             `dynamodbav:"offerId"`
	OfferTitle string             `dynamodbav:"offerTitle"`
	Products   []contacts.Product `dynamodbav:"products"`
	OrderID    string             `dynamodbav:"orderId,omitempty"`
	Amount     int64              `dynamodbav:"amount"`
	Currency   string             `dynamodbav:"currency,omitempty"`
	Refunded   int64              `dynamodbav:"refunded"`
	Status     string             `dynamodbav:"status"`
	At         string             `dynamodbav:"at"`
	GrantedBy  *contacts.Actor    `dynamodbav:"grantedBy,omitempty"`
	EndedBy    *contacts.Actor    `dynamodbav:"endedBy,omitempty"`
	EndedAt    string             `dynamodbav:"endedAt,omitempty"`
}

func newPurchaseItem(site string, p contacts.Purchase) purchaseItem {
	it := purchaseItem{
		PK: contactPK(site, p.ContactID), SK: purchaseSK(p.ID), Type: "purchase", ID: p.ID, ContactID: p.ContactID,
		Kind: p.Kind, OfferID: p.OfferID, OfferTitle: p.OfferTitle, Products: p.Products, OrderID: p.OrderID,
		Currency: p.Currency, Status: p.Status, At: formatTime(p.At), GrantedBy: p.GrantedBy,
	}
	if p.Amount != nil {
		it.Amount = *p.Amount
	}
	return it
}

func (it purchaseItem) purchase() contacts.Purchase {
	p := contacts.Purchase{
		ID: it.ID, ContactID: it.ContactID, Kind: it.Kind, OfferID: it.OfferID, OfferTitle: it.OfferTitle,
		Products: it.Products, OrderID: it.OrderID, Status: it.Status, At: parseTime(it.At), GrantedBy: it.GrantedBy,
		EndedAt: parseOptional(it.EndedAt),
	}
	if p.Products == nil {
		p.Products = []contacts.Product{}
	}
	if it.Kind == contacts.KindPurchase {
		amount, refunded := it.Amount, it.Refunded
		p.Amount, p.Refunded, p.Currency = &amount, &refunded, it.Currency
	}
	switch it.Status {
	case contacts.StatusRevoked:
		p.RevokedBy = it.EndedBy
	case contacts.StatusCancelled:
		p.CancelledBy = it.EndedBy
	}
	return p
}

// productItem is a product a contact owns while Sources (the active
// purchases and grants unlocking it) is not empty.
type productItem struct {
	ProductID string   `dynamodbav:"productId"`
	Title     string   `dynamodbav:"title"`
	Sources   []string `dynamodbav:"sources,stringset,omitempty"`
}

// claimItem reserves an email (or, later, an external id) within a site.
type claimItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	ContactID  string `dynamodbav:"contactId"`
	PurchaseID string `dynamodbav:"purchaseId,omitempty"` // order and purchase claims
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
