package contacts

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
)

// Purchase kinds and statuses.
const (
	KindPurchase = "purchase"
	KindGrant    = "grant"

	StatusActive    = "active"
	StatusRevoked   = "revoked"   // a grant taken back
	StatusCancelled = "cancelled" // a purchase cancelled
)

// Lifecycle entry types of the customer's side.
const (
	EventPurchased = "purchased"
	EventGranted   = "granted"
	EventRevoked   = "revoked"
	EventCancelled = "cancelled"
	EventRefunded  = "refunded"
	EventSignedIn  = "signed_in"
)

// Limits on purchases.
const (
	MaxProductsPerOffer = 20
	MaxAmount           = 1_000_000_000_00 // minor units: a billion in major units
	MaxIDLength         = 128
)

// Product is something an offer unlocks.
type Product struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Actor is the account user who did something, from their token.
type Actor struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Purchase is an offer bought or granted, with what became of it.
type Purchase struct {
	ID         string    `json:"id"`
	ContactID  string    `json:"contactId"`
	Kind       string    `json:"kind"` // purchase or grant
	OfferID    string    `json:"offerId"`
	OfferTitle string    `json:"offerTitle"`
	Products   []Product `json:"products"`
	OrderID    string    `json:"orderId,omitempty"`
	// Amount, Currency and Refunded are absent for roles that may not see
	// financial data, and for grants.
	Amount      *int64     `json:"amount,omitempty"`
	Currency    string     `json:"currency,omitempty"`
	Refunded    *int64     `json:"refunded,omitempty"`
	Status      string     `json:"status"`
	At          time.Time  `json:"at"`
	GrantedBy   *Actor     `json:"grantedBy,omitempty"`
	RevokedBy   *Actor     `json:"revokedBy,omitempty"`
	CancelledBy *Actor     `json:"cancelledBy,omitempty"`
	EndedAt     *time.Time `json:"endedAt,omitempty"`
}

// NewPurchase is what the checkout reports (role service).
type NewPurchase struct {
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	OfferID     string    `json:"offerId"`
	OfferTitle  string    `json:"offerTitle"`
	Products    []Product `json:"products"`
	Amount      *int64    `json:"amount"`
	Currency    string    `json:"currency"`
	OrderID     string    `json:"orderId"`
	PurchasedAt time.Time `json:"purchasedAt"`
}

// NewGrant is what an owner or admin gives.
type NewGrant struct {
	OfferID    string    `json:"offerId"`
	OfferTitle string    `json:"offerTitle"`
	Products   []Product `json:"products"`
}

// NewRefund gives money back on a purchase. RefundID makes a retry safe.
type NewRefund struct {
	Amount   *int64 `json:"amount"`
	RefundID string `json:"refundId"`
	Reason   string `json:"reason"`
}

// Refund is a refund recorded on a purchase.
type Refund struct {
	ID         string    `json:"id"`
	PurchaseID string    `json:"purchaseId"`
	ContactID  string    `json:"contactId"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// Activity types the member site reports.
const (
	ActivitySignIn = "sign_in"
	ActivityOther  = "activity"
)

// NewActivity is a sign-in or other activity on the member site.
type NewActivity struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
}

// LifecycleQuery pages through a contact's lifecycle.
type LifecycleQuery struct {
	Limit  int
	Cursor string
	Type   string
}

// CustomerStore is what the customer operations need from storage, on top
// of Store.
//
// Errors: apperr.ErrContactNotFound, ErrPurchaseNotFound, ErrOfferHeld,
// ErrNotCustomer, ErrExternalIDTaken, ErrRefundTooLarge, ErrAlreadyEnded.
type CustomerStore interface {
	// RecordPurchase stores the purchase on the contact with the email key,
	// creating the contact (newContact) when the site has none. A purchase
	// whose order id was recorded before changes nothing: the first purchase
	// is returned with replay true.
	RecordPurchase(ctx context.Context, newContact Contact, p Purchase, e LifecycleEntry) (stored Purchase, replay bool, err error)
	// Grant stores a grant unless the contact already holds the offer.
	Grant(ctx context.Context, site string, p Purchase, e LifecycleEntry) error
	// EndPurchase revokes a grant or cancels a purchase, keeping its record
	// and releasing the products no other active purchase backs.
	EndPurchase(ctx context.Context, site, contactID, purchaseID string, by Actor, e LifecycleEntry) (Purchase, error)
	// Refund records a refund on a purchase found by id; a refund id seen
	// before changes nothing.
	Refund(ctx context.Context, site, purchaseID string, r Refund, e LifecycleEntry) (Refund, error)
	SetMuted(ctx context.Context, site, id string, muted bool, now time.Time) (Contact, error)
	RecordActivity(ctx context.Context, site, id string, signIn bool, at time.Time, e *LifecycleEntry) (Contact, error)
	Lifecycle(ctx context.Context, site, id string, q LifecycleQuery, now time.Time) (Page[LifecycleEntry], error)
}

// Errors of the customer's side.
var (
	ErrPurchaseNotFound = apperr.New(apperr.NotFound, "purchase_not_found", "no such purchase")
	ErrOfferHeld        = apperr.New(apperr.Conflict, "offer_already_held", "the person already holds this offer")
	ErrNotCustomer      = apperr.New(apperr.Conflict, "not_a_customer", "only customers can be muted or carry an external user id")
	ErrExternalIDTaken  = apperr.New(apperr.Conflict, "external_id_taken", "another contact on this site already has this external user id")
	ErrRefundTooLarge   = apperr.New(apperr.Conflict, "refund_exceeds_purchase", "the refunds would exceed what was paid")
	ErrAlreadyEnded     = apperr.New(apperr.Conflict, "purchase_already_ended", "the purchase was already revoked or cancelled")
	ErrNothingToRefund  = apperr.New(apperr.Conflict, "not_refundable", "a grant has no payment to refund")
	ErrRefundIDReused   = apperr.New(apperr.Conflict, "refund_id_reused", "this refund id was used for another amount on this purchase")
	ErrOrderDeleted     = apperr.New(apperr.Conflict, "order_deleted", "the customer of this order was deleted; the order is not recorded again")
)

// customers returns the store's customer side.
func (s *Service) customers() CustomerStore {
	cs, ok := s.Store.(CustomerStore)
	if !ok {
		panic("contacts: the store does not implement CustomerStore")
	}
	return cs
}

func checkOffer(fc *fieldChecker, offerID, offerTitle string, products []Product) []Product {
	if offerID == "" {
		fc.add("offerId", "required", "offerId is required")
	}
	fc.maxLen("offerId", offerID, MaxIDLength)
	noHash(fc, "offerId", offerID)
	fc.maxLen("offerTitle", offerTitle, MaxNameLength)
	if len(products) > MaxProductsPerOffer {
		fc.add("products", "too_many", "an offer unlocks at most 20 products")
	}
	var out []Product
	for _, p := range products {
		p = Product{ID: CleanText(p.ID), Title: CleanText(p.Title)}
		if p.ID == "" || utf8.RuneCountInString(p.ID) > MaxIDLength || strings.Contains(p.ID, "#") {
			fc.add("products", "invalid_product", "every product needs an id (at most 128 characters, no '#')")
			break
		}
		fc.maxLen("products.title", p.Title, MaxNameLength)
		if !slices.ContainsFunc(out, func(o Product) bool { return o.ID == p.ID }) {
			out = append(out, p)
		}
	}
	if out == nil {
		out = []Product{}
	}
	return out
}

// RecordPurchase records what the checkout sold. It is idempotent on the
// order id, and creates the contact when the email is new to the site.
func (s *Service) RecordPurchase(ctx context.Context, caller auth.Caller, in NewPurchase) (Purchase, bool, error) {
	if err := caller.Authorize(auth.RecordPurchases); err != nil {
		return Purchase{}, false, err
	}
	now := s.Now().UTC()
	var fc fieldChecker
	display, key := fc.email("email", in.Email)
	in.OfferID, in.OfferTitle, in.OrderID = CleanText(in.OfferID), CleanText(in.OfferTitle), CleanText(in.OrderID)
	products := checkOffer(&fc, in.OfferID, in.OfferTitle, in.Products)
	if in.OrderID == "" {
		fc.add("orderId", "required", "orderId is required: it makes a retried purchase safe")
	}
	fc.maxLen("orderId", in.OrderID, MaxIDLength)
	noHash(&fc, "orderId", in.OrderID)
	switch {
	case in.Amount == nil:
		fc.add("amount", "required", "amount (minor units) is required")
	case *in.Amount < 0:
		fc.add("amount", "negative", "amount cannot be negative")
	case *in.Amount > MaxAmount:
		fc.add("amount", "too_large", "amount is too large")
	}
	cur, err := currency.ParseISO(in.Currency)
	// X codes (XXX "no currency", XTS testing, XAU gold...) are not money.
	if err != nil || in.Currency != strings.ToUpper(in.Currency) || strings.HasPrefix(in.Currency, "X") {
		fc.add("currency", "unknown_currency", "currency must be an ISO 4217 code such as USD or EUR")
	}
	at := now
	if !in.PurchasedAt.IsZero() {
		checkWhen(&fc, "purchasedAt", in.PurchasedAt, now)
		at = in.PurchasedAt.UTC()
	}
	name := CleanText(in.Name)
	fc.maxLen("name", name, MaxNameLength)
	if err := fc.err(); err != nil {
		return Purchase{}, false, err
	}
	contact := Contact{
		ID: NewID(now), Site: caller.Site, Email: display, EmailKey: key, Name: name,
		Kind: KindCustomer, Source: "purchase", AddedAt: at, StartDate: at, Version: 1, UpdatedAt: now,
		Subscription: Subscription{Status: NeverSubscribed, At: at}, Tags: []string{}, CustomerSince: &at,
	}
	amount := *in.Amount
	p := Purchase{
		ID: NewID(at), Kind: KindPurchase, OfferID: in.OfferID, OfferTitle: in.OfferTitle, Products: products,
		OrderID: in.OrderID, Amount: &amount, Currency: cur.String(), Status: StatusActive, At: at,
	}
	e := s.lifecycleEntry(EventPurchased, at, map[string]string{"offerId": p.OfferID, "offerTitle": p.OfferTitle, "purchaseId": p.ID,
		"amount": itoa64(amount), "currency": p.Currency})
	return s.customers().RecordPurchase(ctx, contact, p, e)
}

// Grant gives an offer to a contact, making them a customer.
func (s *Service) Grant(ctx context.Context, caller auth.Caller, contactID string, in NewGrant) (Purchase, error) {
	if err := caller.Authorize(auth.GrantOffers); err != nil {
		return Purchase{}, err
	}
	if !ValidID(contactID) {
		return Purchase{}, apperr.ErrContactNotFound
	}
	var fc fieldChecker
	in.OfferID, in.OfferTitle = CleanText(in.OfferID), CleanText(in.OfferTitle)
	products := checkOffer(&fc, in.OfferID, in.OfferTitle, in.Products)
	if err := fc.err(); err != nil {
		return Purchase{}, err
	}
	now := s.Now().UTC()
	p := Purchase{
		ID: NewID(now), ContactID: contactID, Kind: KindGrant, OfferID: in.OfferID, OfferTitle: in.OfferTitle, Products: products,
		Status: StatusActive, At: now, GrantedBy: &Actor{Email: caller.Email, Role: string(caller.Role)},
	}
	e := s.lifecycleEntry(EventGranted, now, map[string]string{"offerId": p.OfferID, "offerTitle": p.OfferTitle, "purchaseId": p.ID, "by": caller.Email})
	if err := s.customers().Grant(ctx, caller.Site, p, e); err != nil {
		return Purchase{}, err
	}
	return p, nil
}

// EndPurchase revokes a grant or cancels a purchase.
func (s *Service) EndPurchase(ctx context.Context, caller auth.Caller, contactID, purchaseID string) (Purchase, error) {
	if err := caller.Authorize(auth.GrantOffers); err != nil {
		return Purchase{}, err
	}
	if !ValidID(contactID) {
		return Purchase{}, apperr.ErrContactNotFound
	}
	if !ValidID(purchaseID) {
		return Purchase{}, ErrPurchaseNotFound
	}
	now := s.Now().UTC()
	by := Actor{Email: caller.Email, Role: string(caller.Role)}
	e := s.lifecycleEntry("", now, map[string]string{"purchaseId": purchaseID, "by": caller.Email})
	p, err := s.customers().EndPurchase(ctx, caller.Site, contactID, purchaseID, by, e)
	if err != nil {
		return Purchase{}, err
	}
	return s.redactPurchase(caller, p), nil
}

// Refund gives back part or all of a purchase's amount.
func (s *Service) Refund(ctx context.Context, caller auth.Caller, purchaseID string, in NewRefund) (Refund, error) {
	if err := caller.Authorize(auth.RefundPurchases); err != nil {
		return Refund{}, err
	}
	if !ValidID(purchaseID) {
		return Refund{}, ErrPurchaseNotFound
	}
	var fc fieldChecker
	switch {
	case in.Amount == nil:
		fc.add("amount", "required", "amount (minor units) is required")
	case *in.Amount <= 0:
		fc.add("amount", "not_positive", "a refund amount must be positive")
	case *in.Amount > MaxAmount:
		fc.add("amount", "too_large", "amount is too large")
	}
	in.RefundID, in.Reason = CleanText(in.RefundID), CleanText(in.Reason)
	fc.maxLen("refundId", in.RefundID, MaxIDLength)
	noHash(&fc, "refundId", in.RefundID)
	fc.maxLen("reason", in.Reason, MaxNameLength)
	if err := fc.err(); err != nil {
		return Refund{}, err
	}
	now := s.Now().UTC()
	r := Refund{ID: in.RefundID, PurchaseID: purchaseID, Amount: *in.Amount, Reason: in.Reason, At: now}
	if r.ID == "" {
		r.ID = NewID(now)
	}
	// The refund's lifecycle entry id is derived from the refund id, so a
	// retried refund finds its own entry and changes nothing.
	e := LifecycleEntry{ID: "refund-" + r.ID, Type: EventRefunded, At: now, ExpiresAt: now.Add(s.LifecycleRetention),
		Detail: map[string]string{"purchaseId": purchaseID, "amount": itoa64(r.Amount), "refundId": r.ID}}
	return s.customers().Refund(ctx, caller.Site, purchaseID, r, e)
}

// SetMuted stops (or lets again) a customer post comments.
func (s *Service) SetMuted(ctx context.Context, caller auth.Caller, id string, muted bool) (Contact, error) {
	if err := caller.Authorize(auth.MuteCustomers); err != nil {
		return Contact{}, err
	}
	if !ValidID(id) {
		return Contact{}, apperr.ErrContactNotFound
	}
	return s.customers().SetMuted(ctx, caller.Site, id, muted, s.Now().UTC())
}

// RecordActivity counts a sign-in, or notes activity, from the member site.
func (s *Service) RecordActivity(ctx context.Context, caller auth.Caller, id string, in NewActivity) (Contact, error) {
	if err := caller.Authorize(auth.RecordActivity); err != nil {
		return Contact{}, err
	}
	if !ValidID(id) {
		return Contact{}, apperr.ErrContactNotFound
	}
	now := s.Now().UTC()
	at := now
	var fc fieldChecker
	if in.Type != ActivitySignIn && in.Type != ActivityOther {
		fc.add("type", "invalid", `type is "sign_in" or "activity"`)
	}
	if !in.At.IsZero() {
		checkWhen(&fc, "at", in.At, now)
		at = in.At.UTC()
	}
	if err := fc.err(); err != nil {
		return Contact{}, err
	}
	var e *LifecycleEntry
	if in.Type == ActivitySignIn {
		entry := s.lifecycleEntry(EventSignedIn, at, nil)
		e = &entry
	}
	return s.customers().RecordActivity(ctx, caller.Site, id, in.Type == ActivitySignIn, at, e)
}

// Lifecycle pages through a contact's lifecycle, newest first.
func (s *Service) Lifecycle(ctx context.Context, caller auth.Caller, id string, q LifecycleQuery) (Page[LifecycleEntry], error) {
	if err := caller.Authorize(auth.ReadContacts); err != nil {
		return Page[LifecycleEntry]{}, err
	}
	if !ValidID(id) {
		return Page[LifecycleEntry]{}, apperr.ErrContactNotFound
	}
	if q.Type != "" && (len(q.Type) > 40 || strings.ContainsAny(q.Type, "# ")) {
		return Page[LifecycleEntry]{}, apperr.Validation(apperr.FieldError{Field: "type", Code: "invalid", Message: "not a lifecycle entry type"})
	}
	page, err := s.customers().Lifecycle(ctx, caller.Site, id, q, s.Now())
	if err != nil {
		return page, err
	}
	s.redactLifecycle(caller, page.Items)
	return page, nil
}

// redactPurchase drops amounts for roles that may not see financial data.
func (s *Service) redactPurchase(caller auth.Caller, p Purchase) Purchase {
	if auth.Can(caller.Role, auth.ReadRevenue) {
		return p
	}
	p.Amount, p.Refunded, p.Currency = nil, nil, ""
	return p
}

// redactLifecycle drops amounts from lifecycle details for roles that may
// not see financial data.
func (s *Service) redactLifecycle(caller auth.Caller, entries []LifecycleEntry) {
	if auth.Can(caller.Role, auth.ReadRevenue) {
		return
	}
	for i, e := range entries {
		if _, ok := e.Detail["amount"]; ok {
			d := make(map[string]string, len(e.Detail))
			for k, v := range e.Detail {
				if k != "amount" && k != "currency" {
					d[k] = v
				}
			}
			entries[i].Detail = d
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// noHash refuses '#' in ids that become parts of keys.
func noHash(fc *fieldChecker, field, v string) {
	if strings.Contains(v, "#") {
		fc.add(field, "invalid", field+" cannot contain '#'")
	}
}
