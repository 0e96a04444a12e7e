package contacts

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/retry"
)

// Store is what the contacts service needs from storage. The DynamoDB
// implementation lives in package store; tests use small fakes.
//
// Errors: a missing contact or note is apperr.ErrContactNotFound or
// apperr.ErrNoteNotFound, a taken email apperr.ErrEmailTaken, a version that
// moved apperr.ErrVersionMismatch, a foreign cursor apperr.ErrInvalidCursor.
type Store interface {
	// CreateContact stores the contact, its email claim, its tags and its
	// first lifecycle entry in one transaction.
	CreateContact(ctx context.Context, c Contact, added LifecycleEntry) error
	GetContact(ctx context.Context, site, id string) (Contact, error)
	// GetProfile reads the contact with its notes and newest lifecycle
	// entries (at most lifecycleLimit, none expired at now).
	GetProfile(ctx context.Context, site, id string, lifecycleLimit int, now time.Time) (Profile, error)
	// UpdateContact replaces the details of old with those of updated if the
	// stored version is still old.Version, moving the email claim when the
	// email key changed, in one transaction.
	UpdateContact(ctx context.Context, old, updated Contact) error
	DeleteContact(ctx context.Context, site, id string) error
	ListContacts(ctx context.Context, site string, q ListQuery) (Page[Contact], error)
	AddNote(ctx context.Context, site, contactID string, n Note) error
	ListNotes(ctx context.Context, site, contactID string, limit int, cursor string) (Page[Note], error)
	DeleteNote(ctx context.Context, site, contactID, noteID string) error
	// AddTag tags the contact; tagging twice changes nothing.
	AddTag(ctx context.Context, site, contactID, tag string, now time.Time) (Contact, error)
	// RemoveTag untags the contact; removing an absent tag changes nothing.
	RemoveTag(ctx context.Context, site, contactID, tag string, now time.Time) (Contact, error)
	ListTags(ctx context.Context, site string) ([]TagCount, error)
	SetHidden(ctx context.Context, site, id string, hidden bool, now time.Time) (Contact, error)
}

// ListQuery selects and pages the Contacts list.
type ListQuery struct {
	Limit         int
	Cursor        string
	Tag           string // only contacts with this tag
	Search        string // email or name prefix, case-insensitive
	IncludeHidden bool
	Kind          Kind      // only contacts or only customers
	ActiveSince   time.Time // only people active at or after this time
}

// Matches reports whether c passes the query's filters (not its tag or
// search, which select the index to read).
func (q ListQuery) Matches(c Contact) bool {
	if c.Hidden && !q.IncludeHidden {
		return false
	}
	if q.Kind != "" && c.Kind != q.Kind {
		return false
	}
	if !q.ActiveSince.IsZero() && (c.LastActivityAt == nil || c.LastActivityAt.Before(q.ActiveSince)) {
		return false
	}
	return true
}

// Service is the contacts domain: validation, permissions, ids and clocks.
type Service struct {
	Store Store
	Now   func() time.Time
	// LifecycleRetention is how long lifecycle entries are kept (TTL).
	LifecycleRetention time.Duration
}

// NewService returns a service over store with the real clock.
func NewService(store Store, retention time.Duration) *Service {
	return &Service{Store: store, Now: time.Now, LifecycleRetention: retention}
}

// ProfileLifecycleSize is how many lifecycle entries a profile shows.
const ProfileLifecycleSize = 20

// ProfileNotesSize is how many notes a profile shows; the rest are paged.
const ProfileNotesSize = 20

// NewContact is the input of "add a contact".
type NewContact struct {
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	Company    string    `json:"company"`
	Address    *Address  `json:"address"`
	Tags       []string  `json:"tags"`
	Subscribed *bool     `json:"subscribed"`
	Source     string    `json:"source"`  // manual (default), import or optin
	AddedAt    time.Time `json:"addedAt"` // for imports: when the person joined the list
}

// Sources a contact can come from.
var sources = []string{"manual", "import", "optin"}

// Create validates and stores a new contact.
func (s *Service) Create(ctx context.Context, caller auth.Caller, in NewContact) (Contact, error) {
	if err := caller.Authorize(auth.CreateContacts); err != nil {
		return Contact{}, err
	}
	now := s.Now().UTC()
	var fc fieldChecker
	display, key := fc.email("email", in.Email)
	c := Contact{
		ID:       NewID(now),
		Site:     caller.Site,
		Email:    display,
		EmailKey: key,
		Name:     CleanText(in.Name),
		Phone:    CleanText(in.Phone),
		Company:  CleanText(in.Company),
		Kind:     KindContact,
		Source:   in.Source,
		AddedAt:  now,
		Version:  1,
		Tags:     []string{},
	}
	c.UpdatedAt = now
	checkDetails(&fc, &c, in.Address)
	if c.Source == "" {
		c.Source = "manual"
	} else if !slices.Contains(sources, c.Source) {
		fc.add("source", "invalid", "source must be one of manual, import, optin")
	}
	if !in.AddedAt.IsZero() {
		checkWhen(&fc, "addedAt", in.AddedAt, now)
		c.AddedAt = in.AddedAt.UTC()
	}
	c.StartDate = c.AddedAt
	c.Subscription = Subscription{Status: NeverSubscribed, At: c.AddedAt}
	if in.Subscribed != nil && *in.Subscribed {
		c.Subscription.Status = Subscribed
	}
	if len(in.Tags) > MaxTagsPerContact {
		fc.add("tags", "too_many", "at most "+strconv.Itoa(MaxTagsPerContact)+" tags")
	}
	for _, raw := range in.Tags {
		t := NormalizeTag(raw)
		if !ValidTag(t) {
			fc.add("tags", "invalid_tag", "tags are 1 to 64 letters, digits, spaces and - _ . :")
			break
		}
		if !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
	slices.Sort(c.Tags)
	if err := fc.err(); err != nil {
		return Contact{}, err
	}
	added := s.lifecycleEntry(EventContactAdded, c.AddedAt, map[string]string{"source": c.Source})
	if err := s.Store.CreateContact(ctx, c, added); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// checkDetails validates the editable details already cleaned into c.
func checkDetails(fc *fieldChecker, c *Contact, addr *Address) {
	fc.maxLen("name", c.Name, MaxNameLength)
	fc.maxLen("phone", c.Phone, MaxPhoneLength)
	fc.maxLen("company", c.Company, MaxCompanyLength)
	if addr != nil {
		a := Address{
			Line1: CleanText(addr.Line1), Line2: CleanText(addr.Line2), City: CleanText(addr.City),
			Region: CleanText(addr.Region), PostalCode: CleanText(addr.PostalCode), Country: CleanText(addr.Country),
		}
		for field, v := range map[string]string{"address.line1": a.Line1, "address.line2": a.Line2, "address.city": a.City,
			"address.region": a.Region, "address.postalCode": a.PostalCode, "address.country": a.Country} {
			fc.maxLen(field, v, MaxAddressPart)
		}
		c.Address = nil
		if !a.IsZero() {
			c.Address = &a
		}
	}
	if c.Phone != "" && strings.IndexFunc(c.Phone, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		fc.add("phone", "invalid_phone", "phone must contain digits")
	}
}

// Profile returns the full profile of one contact of the caller's site.
func (s *Service) Profile(ctx context.Context, caller auth.Caller, id string) (Profile, error) {
	if err := caller.Authorize(auth.ReadContacts); err != nil {
		return Profile{}, err
	}
	if !ValidID(id) {
		return Profile{}, apperr.ErrContactNotFound
	}
	now := s.Now()
	p, err := s.Store.GetProfile(ctx, caller.Site, id, ProfileLifecycleSize, now)
	if err != nil {
		return Profile{}, err
	}
	p.LifespanDays = LifespanDays(p.StartDate, now, caller.Location)
	if len(p.Notes) > ProfileNotesSize {
		p.Notes = p.Notes[:ProfileNotesSize]
	}
	if !auth.Can(caller.Role, auth.ReadRevenue) {
		p.NetRevenue = nil
		for i := range p.Purchases {
			p.Purchases[i] = s.redactPurchase(caller, p.Purchases[i])
		}
		s.redactLifecycle(caller, p.Lifecycle)
	} else if p.NetRevenue == nil {
		p.NetRevenue = map[string]int64{}
	}
	return p, nil
}

// ContactPatch is the input of "edit details": absent fields stay as they
// are; an empty string clears an optional field.
type ContactPatch struct {
	Email      *string  `json:"email"`
	ExternalID *string  `json:"externalId"`
	Name       *string  `json:"name"`
	Phone      *string  `json:"phone"`
	Company    *string  `json:"company"`
	Address    *Address `json:"address"`
}

// Update edits a contact's details. With ifMatch set, the edit applies only
// to that version; without it, it applies to the version just read.
func (s *Service) Update(ctx context.Context, caller auth.Caller, id string, patch ContactPatch, ifMatch *int64) (Contact, error) {
	if err := caller.Authorize(auth.EditContacts); err != nil {
		return Contact{}, err
	}
	if !ValidID(id) {
		return Contact{}, apperr.ErrContactNotFound
	}
	for attempt := 0; ; attempt++ {
		c, err := s.update(ctx, caller, id, patch, ifMatch)
		// Without If-Match the caller asked for last-writer-wins: a version
		// that moved under us (a tag, another edit) is read again.
		if ifMatch == nil && errors.Is(err, apperr.ErrVersionMismatch) && attempt < maxRetries {
			if err := retry.Backoff(ctx, attempt); err != nil {
				return Contact{}, err
			}
			continue
		}
		return c, err
	}
}

func (s *Service) update(ctx context.Context, caller auth.Caller, id string, patch ContactPatch, ifMatch *int64) (Contact, error) {
	old, err := s.Store.GetContact(ctx, caller.Site, id)
	if err != nil {
		return Contact{}, err
	}
	if ifMatch != nil && *ifMatch != old.Version {
		return Contact{}, apperr.ErrVersionMismatch
	}
	c := old
	c.Tags = slices.Clone(old.Tags)
	var fc fieldChecker
	if patch.Email != nil {
		c.Email, c.EmailKey = fc.email("email", *patch.Email)
	}
	if patch.Name != nil {
		c.Name = CleanText(*patch.Name)
	}
	if patch.Phone != nil {
		c.Phone = CleanText(*patch.Phone)
	}
	if patch.Company != nil {
		c.Company = CleanText(*patch.Company)
	}
	if patch.ExternalID != nil {
		ext := CleanText(*patch.ExternalID)
		switch {
		case ext == c.ExternalID:
		case c.Kind != KindCustomer:
			return Contact{}, ErrNotCustomer
		case utf8.RuneCountInString(ext) > MaxIDLength || strings.Contains(ext, "#"):
			fc.add("externalId", "invalid", "externalId is at most 128 characters, without '#'")
		}
		c.ExternalID = ext
	}
	checkDetails(&fc, &c, patch.Address)
	if err := fc.err(); err != nil {
		return Contact{}, err
	}
	if sameDetails(old, c) {
		return old, nil // nothing changed: no write, the ETag stays
	}
	c.Version = old.Version + 1
	c.UpdatedAt = s.Now().UTC()
	if err := s.Store.UpdateContact(ctx, old, c); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// Delete removes a contact and everything that names it, permanently.
func (s *Service) Delete(ctx context.Context, caller auth.Caller, id string) error {
	if err := caller.Authorize(auth.DeleteContacts); err != nil {
		return err
	}
	if !ValidID(id) {
		return apperr.ErrContactNotFound
	}
	return s.Store.DeleteContact(ctx, caller.Site, id)
}

// List returns one page of the caller's site's contacts, newest first.
func (s *Service) List(ctx context.Context, caller auth.Caller, q ListQuery) (Page[Contact], error) {
	if err := caller.Authorize(auth.ReadContacts); err != nil {
		return Page[Contact]{}, err
	}
	if q.Tag != "" {
		q.Tag = NormalizeTag(q.Tag)
		if !ValidTag(q.Tag) {
			return Page[Contact]{}, apperr.Validation(apperr.FieldError{Field: "tag", Code: "invalid_tag", Message: "not a valid tag"})
		}
	}
	if q.Kind != "" && q.Kind != KindContact && q.Kind != KindCustomer {
		return Page[Contact]{}, apperr.Validation(apperr.FieldError{Field: "kind", Code: "invalid", Message: "kind is contact or customer"})
	}
	q.Search = strings.ToLower(CleanText(q.Search))
	if len(q.Search) > MaxEmailLength {
		return Page[Contact]{}, apperr.Validation(apperr.FieldError{Field: "q", Code: "too_long", Message: "search is at most 254 characters"})
	}
	return s.Store.ListContacts(ctx, caller.Site, q)
}

// AddNote keeps a note on a contact; the author comes from the token.
func (s *Service) AddNote(ctx context.Context, caller auth.Caller, contactID, body string) (Note, error) {
	if err := caller.Authorize(auth.AddNotes); err != nil {
		return Note{}, err
	}
	if !ValidID(contactID) {
		return Note{}, apperr.ErrContactNotFound
	}
	body = strings.TrimSpace(nfc(body))
	var fc fieldChecker
	if body == "" {
		fc.add("body", "required", "a note needs a body")
	}
	fc.maxLen("body", body, MaxNoteLength)
	if err := fc.err(); err != nil {
		return Note{}, err
	}
	now := s.Now().UTC()
	n := Note{ID: NewID(now), Body: body, AuthorEmail: caller.Email, AuthorRole: string(caller.Role), AuthorSub: caller.Subject, CreatedAt: now}
	if err := s.Store.AddNote(ctx, caller.Site, contactID, n); err != nil {
		return Note{}, err
	}
	return n, nil
}

// ListNotes pages through a contact's notes, newest first.
func (s *Service) ListNotes(ctx context.Context, caller auth.Caller, contactID string, limit int, cursor string) (Page[Note], error) {
	if err := caller.Authorize(auth.ReadNotes); err != nil {
		return Page[Note]{}, err
	}
	if !ValidID(contactID) {
		return Page[Note]{}, apperr.ErrContactNotFound
	}
	return s.Store.ListNotes(ctx, caller.Site, contactID, limit, cursor)
}

// DeleteNote removes one note.
func (s *Service) DeleteNote(ctx context.Context, caller auth.Caller, contactID, noteID string) error {
	if err := caller.Authorize(auth.DeleteNotes); err != nil {
		return err
	}
	if !ValidID(contactID) {
		return apperr.ErrContactNotFound
	}
	if !ValidID(noteID) {
		return apperr.ErrNoteNotFound
	}
	return s.Store.DeleteNote(ctx, caller.Site, contactID, noteID)
}

// Tag adds (add true) or removes a tag on a contact.
func (s *Service) Tag(ctx context.Context, caller auth.Caller, contactID, rawTag string, add bool) (Contact, error) {
	if err := caller.Authorize(auth.ManageTags); err != nil {
		return Contact{}, err
	}
	if !ValidID(contactID) {
		return Contact{}, apperr.ErrContactNotFound
	}
	tag := NormalizeTag(rawTag)
	if !ValidTag(tag) {
		return Contact{}, apperr.Validation(apperr.FieldError{Field: "tag", Code: "invalid_tag", Message: "tags are 1 to 64 letters, digits, spaces and - _ . :"})
	}
	if add {
		return s.Store.AddTag(ctx, caller.Site, contactID, tag, s.Now().UTC())
	}
	return s.Store.RemoveTag(ctx, caller.Site, contactID, tag, s.Now().UTC())
}

// Tags lists the site's tags with how many contacts carry each.
func (s *Service) Tags(ctx context.Context, caller auth.Caller) ([]TagCount, error) {
	if err := caller.Authorize(auth.ReadTags); err != nil {
		return nil, err
	}
	return s.Store.ListTags(ctx, caller.Site)
}

// SetHidden hides a contact from the Contacts list, or shows it again.
func (s *Service) SetHidden(ctx context.Context, caller auth.Caller, id string, hidden bool) (Contact, error) {
	if err := caller.Authorize(auth.HideContacts); err != nil {
		return Contact{}, err
	}
	if !ValidID(id) {
		return Contact{}, apperr.ErrContactNotFound
	}
	return s.Store.SetHidden(ctx, caller.Site, id, hidden, s.Now().UTC())
}

// lifecycleEntry builds an entry with a fresh id.
func (s *Service) lifecycleEntry(typ string, at time.Time, detail map[string]string) LifecycleEntry {
	return LifecycleEntry{ID: NewID(at), Type: typ, At: at.UTC(), Detail: detail, ExpiresAt: at.Add(s.LifecycleRetention)}
}

// NewID returns a new ULID: unique, and sorting by creation time.
func NewID(at time.Time) string {
	if at.Before(earliest) || at.After(time.UnixMilli(int64(ulid.MaxTime()))) {
		at = time.Now() // ids only order things; a time ULID cannot hold never panics
	}
	return ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
}

// earliest is the earliest time the product accepts for anything that
// happened (a join date, a purchase, a sign-in).
var earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// checkWhen validates a reported time: not in the future (a minute of clock
// skew allowed) and not before 1990.
func checkWhen(fc *fieldChecker, field string, t, now time.Time) {
	switch {
	case t.After(now.Add(time.Minute)):
		fc.add(field, "in_future", field+" cannot be in the future")
	case t.Before(earliest):
		fc.add(field, "out_of_range", field+" cannot be before 1990")
	}
}

// ValidID reports whether s is shaped like an id this product issued. Other
// strings are answered "not found" without touching the store.
func ValidID(s string) bool {
	_, err := ulid.ParseStrict(s)
	return err == nil && len(s) == ulid.EncodedSize
}

// sameDetails reports whether an edit leaves every editable detail as it was.
func sameDetails(a, b Contact) bool {
	return a.Email == b.Email && a.Name == b.Name && a.Phone == b.Phone && a.Company == b.Company &&
		a.ExternalID == b.ExternalID && (a.Address == nil) == (b.Address == nil) &&
		(a.Address == nil || *a.Address == *b.Address)
}

// maxRetries bounds the read-modify-write retries of an edit that lost a
// race it did not ask to lose (no If-Match).
const maxRetries = 8
