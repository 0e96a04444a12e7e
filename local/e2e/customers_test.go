package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// purchase is the part of a purchase record these tests look at.
type purchase struct {
	ID        string `json:"id"`
	ContactID string `json:"contactId"`
	Kind      string `json:"kind"`
	OfferID   string `json:"offerId"`
	OrderID   string `json:"orderId"`
	Amount    *int64 `json:"amount"`
	Currency  string `json:"currency"`
	Refunded  *int64 `json:"refunded"`
	Status    string `json:"status"`
	GrantedBy *struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"grantedBy"`
	RevokedBy *struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"revokedBy"`
}

// profile is the part of the full profile these tests look at.
type profile struct {
	ID             string           `json:"id"`
	Kind           string           `json:"kind"`
	PurchasesCount int64            `json:"purchasesCount"`
	SignInCount    int64            `json:"signInCount"`
	LastActivityAt *string          `json:"lastActivityAt"`
	Muted          bool             `json:"muted"`
	NetRevenue     map[string]int64 `json:"netRevenue"`
	Purchases      []purchase       `json:"purchases"`
	ProductsOwned  []struct {
		ID string `json:"id"`
	} `json:"productsOwned"`
	Lifecycle []struct {
		Type string `json:"type"`
	} `json:"lifecycle"`
}

func purchaseJSON(email, orderID, offerID string, amount int64, currency string) string {
	return fmt.Sprintf(`{"email":%q,"name":"Buyer","offerId":%q,"offerTitle":"Offer %s","products":[{"id":"prod-%s","title":"Product"}],"amount":%d,"currency":%q,"orderId":%q}`,
		email, offerID, offerID, offerID, amount, currency, orderID)
}

func (u user) profile(id string) (profile, map[string]json.RawMessage) {
	u.t.Helper()
	r := u.expect(u.do("GET", "/contacts/"+id, ""), 200)
	var p profile
	var raw map[string]json.RawMessage
	r.json(&p)
	r.json(&raw)
	return p, raw
}

func owns(p profile, productID string) bool {
	for _, prod := range p.ProductsOwned {
		if prod.ID == productID {
			return true
		}
	}
	return false
}

func TestPurchaseMakesACustomer(t *testing.T) {
	s := site(t)
	svc, owner, assistant := as(t, s, "service"), as(t, s, "owner"), as(t, s, "assistant")

	first := svc.expect(svc.do("POST", "/purchases", purchaseJSON("New.Buyer@Example.com", "order-1", "course", 4900, "USD")), 201)
	var p purchase
	first.json(&p)
	if p.ID == "" || p.ContactID == "" || first.header.Get("Location") != "/contacts/"+p.ContactID || p.Amount == nil || *p.Amount != 4900 || p.Status != "active" {
		t.Fatalf("purchase %s (Location %q)", first.body, first.header.Get("Location"))
	}

	prof, raw := owner.profile(p.ContactID)
	if prof.Kind != "customer" || prof.PurchasesCount != 1 || len(prof.NetRevenue) != 1 || prof.NetRevenue["USD"] != 4900 || !owns(prof, "prod-course") {
		t.Errorf("profile after a purchase: %+v", prof)
	}
	if string(raw["netRevenue"]) != `{"USD":4900}` {
		t.Errorf("netRevenue %s", raw["netRevenue"])
	}
	purchased := false
	for _, e := range prof.Lifecycle {
		purchased = purchased || e.Type == "purchased"
	}
	if !purchased {
		t.Errorf("lifecycle has no purchased entry: %+v", prof.Lifecycle)
	}

	// The checkout retries the same order: nothing changes.
	again := svc.expect(svc.do("POST", "/purchases", purchaseJSON("new.buyer@example.com", "order-1", "course", 4900, "USD")), 200)
	var p2 purchase
	again.json(&p2)
	if p2.ID != p.ID || p2.ContactID != p.ContactID {
		t.Errorf("retried order answered %s, want purchase %s", again.body, p.ID)
	}
	if prof, _ := owner.profile(p.ContactID); prof.PurchasesCount != 1 || prof.NetRevenue["USD"] != 4900 || len(prof.Purchases) != 1 {
		t.Errorf("after a retried order: count %d revenue %v purchases %d", prof.PurchasesCount, prof.NetRevenue, len(prof.Purchases))
	}

	// The assistant sees the customer, not the money.
	ap := assistant.expect(assistant.do("GET", "/contacts/"+p.ContactID, ""), 200)
	var am map[string]any
	ap.json(&am)
	if _, ok := am["netRevenue"]; ok {
		t.Errorf("assistant sees netRevenue: %s", ap.body)
	}
	if ps, _ := am["purchases"].([]any); len(ps) != 1 {
		t.Errorf("assistant purchases %v", am["purchases"])
	} else {
		for _, k := range []string{"amount", "currency", "refunded"} {
			if _, ok := ps[0].(map[string]any)[k]; ok {
				t.Errorf("assistant sees purchase %s: %s", k, ap.body)
			}
		}
	}
	if strings.Contains(string(ap.body), "4900") {
		t.Errorf("an amount leaks to the assistant: %s", ap.body)
	}

	// The member site reports a sign-in.
	act := svc.expect(svc.do("POST", "/contacts/"+p.ContactID+"/activity", `{"type":"sign_in"}`), 200)
	var a struct {
		SignInCount    int64   `json:"signInCount"`
		LastActivityAt *string `json:"lastActivityAt"`
	}
	act.json(&a)
	if a.SignInCount != 1 || a.LastActivityAt == nil {
		t.Errorf("activity %s", act.body)
	}
	if prof, _ := owner.profile(p.ContactID); prof.SignInCount != 1 || prof.LastActivityAt == nil {
		t.Errorf("profile after a sign-in: %d %v", prof.SignInCount, prof.LastActivityAt)
	}
	if list := owner.expect(owner.do("GET", "/contacts?kind=customer&activeWithinDays=1", ""), 200); !strings.Contains(string(list.body), p.ContactID) {
		t.Errorf("active customer not listed: %s", list.body)
	}

	// Support mutes the customer.
	support := as(t, s, "support")
	if r := support.expect(support.do("PUT", "/contacts/"+p.ContactID+"/muted", ""), 200); !strings.Contains(string(r.body), `"muted":true`) {
		t.Errorf("mute %s", r.body)
	}
}

func TestLifecyclePagesByType(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	var contactID string
	for i := range 5 {
		var p purchase
		svc.expect(svc.do("POST", "/purchases", purchaseJSON("pager@example.com", fmt.Sprintf("order-%d", i), fmt.Sprintf("offer-%d", i), 100, "USD")), 201).json(&p)
		contactID = p.ContactID
	}
	svc.expect(svc.do("POST", "/contacts/"+contactID+"/activity", `{"type":"sign_in"}`), 200)

	seen := map[string]bool{}
	path := "/contacts/" + contactID + "/lifecycle?type=purchased&limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("lifecycle paging does not end")
		}
		var page struct {
			Items []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"items"`
			Next *string `json:"next"`
		}
		owner.expect(owner.do("GET", path, ""), 200).json(&page)
		if len(page.Items) > 2 {
			t.Fatalf("page of %d with limit 2", len(page.Items))
		}
		for _, e := range page.Items {
			if e.Type != "purchased" || seen[e.ID] {
				t.Errorf("entry %+v (seen before: %v)", e, seen[e.ID])
			}
			seen[e.ID] = true
		}
		if page.Next == nil {
			break
		}
		path = "/contacts/" + contactID + "/lifecycle?type=purchased&limit=2&cursor=" + url.QueryEscape(*page.Next)
	}
	if len(seen) != 5 {
		t.Errorf("%d purchased entries over the pages, want 5", len(seen))
	}
	if r := owner.do("GET", "/contacts/"+contactID+"/lifecycle?limit=0", ""); r.status != 422 {
		t.Errorf("limit=0: %d %s", r.status, r.body)
	}
}

func TestConcurrentPurchasesForOneNewEmail(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	const n = 20
	replies := make([]reply, n)
	var want int64
	var wg sync.WaitGroup
	for i := range n {
		want += int64(1000 + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = svc.do("POST", "/purchases", purchaseJSON("rush@example.com", fmt.Sprintf("rush-%d", i), "course", int64(1000+i), "USD"))
		}()
	}
	wg.Wait()
	contactID := ""
	for i, r := range replies {
		var p purchase
		r.json(&p)
		if r.status != 201 {
			t.Errorf("purchase %d: %d %s", i, r.status, r.body)
			continue
		}
		if contactID == "" {
			contactID = p.ContactID
		} else if p.ContactID != contactID {
			t.Errorf("purchase %d went to contact %s, others to %s", i, p.ContactID, contactID)
		}
	}
	if contactID == "" {
		t.Fatal("no purchase recorded")
	}
	prof, _ := owner.profile(contactID)
	if prof.PurchasesCount != n || prof.NetRevenue["USD"] != want || len(prof.Purchases) != n {
		t.Errorf("after %d concurrent purchases: count %d, purchases %d, revenue %v, want %d", n, prof.PurchasesCount, len(prof.Purchases), prof.NetRevenue, want)
	}
	if list := owner.expect(owner.do("GET", "/contacts?q=rush%40", ""), 200); strings.Count(string(list.body), `"email":"rush@example.com"`) != 1 {
		t.Errorf("one email, one contact: %s", list.body)
	}
}

func TestGrantAndRevoke(t *testing.T) {
	s := site(t)
	owner, admin := as(t, s, "owner"), as(t, s, "admin")
	var c struct{ ID string }
	owner.expect(owner.do("POST", "/contacts", `{"email":"gift@example.com"}`), 201).json(&c)

	var g purchase
	admin.expect(admin.do("POST", "/contacts/"+c.ID+"/grants", `{"offerId":"vip","offerTitle":"VIP","products":[{"id":"forum","title":"Forum"}]}`), 201).json(&g)
	if g.Kind != "grant" || g.GrantedBy == nil || g.GrantedBy.Email != "admin@"+s+".example" || g.GrantedBy.Role != "admin" {
		t.Fatalf("grant %+v", g)
	}
	prof, raw := owner.profile(c.ID)
	if prof.Kind != "customer" || prof.PurchasesCount != 1 || !owns(prof, "forum") {
		t.Errorf("profile after a grant: %+v", prof)
	}
	if string(raw["netRevenue"]) != `{}` {
		t.Errorf("owner's netRevenue after a grant only: %q, want {}", raw["netRevenue"])
	}
	if r := owner.do("POST", "/contacts/"+c.ID+"/grants", `{"offerId":"vip"}`); r.status != 409 || r.code() != "offer_already_held" {
		t.Errorf("second grant: %d %s", r.status, r.body)
	}
	if r := owner.do("POST", "/purchases/"+g.ID+"/refunds", `{"amount":1}`); r.status != 409 || r.code() != "not_refundable" {
		t.Errorf("refund of a grant: %d %s", r.status, r.body)
	}

	var ended purchase
	admin.expect(admin.do("DELETE", "/contacts/"+c.ID+"/purchases/"+g.ID, ""), 200).json(&ended)
	if ended.Status != "revoked" || ended.RevokedBy == nil || ended.RevokedBy.Email != "admin@"+s+".example" {
		t.Errorf("revoke answered %+v", ended)
	}
	prof, _ = owner.profile(c.ID)
	if len(prof.Purchases) != 1 || prof.Purchases[0].Status != "revoked" || prof.Purchases[0].RevokedBy == nil ||
		prof.Purchases[0].RevokedBy.Email != "admin@"+s+".example" || prof.Purchases[0].RevokedBy.Role != "admin" {
		t.Errorf("kept record %+v", prof.Purchases)
	}
	if owns(prof, "forum") {
		t.Errorf("revoked grant still unlocks its product: %+v", prof.ProductsOwned)
	}
	if r := admin.do("DELETE", "/contacts/"+c.ID+"/purchases/"+g.ID, ""); r.status != 409 || r.code() != "purchase_already_ended" {
		t.Errorf("second revoke: %d %s", r.status, r.body)
	}
	// Revoked, the offer can be granted again.
	admin.expect(admin.do("POST", "/contacts/"+c.ID+"/grants", `{"offerId":"vip"}`), 201)
}

func TestRefundsAndCurrencies(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	var usd, eur purchase
	svc.expect(svc.do("POST", "/purchases", purchaseJSON("money@example.com", "m-1", "course", 4900, "USD")), 201).json(&usd)
	svc.expect(svc.do("POST", "/purchases", purchaseJSON("money@example.com", "m-2", "book", 2500, "EUR")), 201).json(&eur)

	owner.expect(owner.do("POST", "/purchases/"+usd.ID+"/refunds", `{"amount":1234,"refundId":"r-1","reason":"partial"}`), 201)
	// A retried refund changes nothing.
	if r := owner.do("POST", "/purchases/"+usd.ID+"/refunds", `{"amount":1234,"refundId":"r-1"}`); r.status >= 300 {
		t.Errorf("retried refund: %d %s", r.status, r.body)
	}
	prof, raw := owner.profile(usd.ContactID)
	if prof.NetRevenue["USD"] != 4900-1234 || prof.NetRevenue["EUR"] != 2500 || len(prof.NetRevenue) != 2 || prof.PurchasesCount != 2 {
		t.Errorf("net revenue %s (count %d), want USD 3666 and EUR 2500", raw["netRevenue"], prof.PurchasesCount)
	}
	for _, p := range prof.Purchases {
		if p.ID == usd.ID && (p.Refunded == nil || *p.Refunded != 1234) {
			t.Errorf("purchase refunded %v", p.Refunded)
		}
	}
	if r := owner.do("POST", "/purchases/"+usd.ID+"/refunds", `{"amount":3667}`); r.status != 409 || r.code() != "refund_exceeds_purchase" {
		t.Errorf("refund past what was paid: %d %s", r.status, r.body)
	}
	owner.expect(owner.do("POST", "/purchases/"+usd.ID+"/refunds", `{"amount":3666}`), 201)
	if prof, _ := owner.profile(usd.ContactID); prof.NetRevenue["USD"] != 0 || prof.NetRevenue["EUR"] != 2500 {
		t.Errorf("after a full refund: %v", prof.NetRevenue)
	}
	for _, body := range []string{`{"amount":0}`, `{"amount":-5}`} {
		if r := owner.do("POST", "/purchases/"+eur.ID+"/refunds", body); r.status != 422 || r.code() != "validation_failed" {
			t.Errorf("refund %s: %d %s", body, r.status, r.body)
		}
	}
}

func TestCustomerBadInputGets4xx(t *testing.T) {
	a, b := site(t)+"a", site(t)+"b"
	svc, owner, ownerB := as(t, a, "service"), as(t, a, "owner"), as(t, b, "owner")
	var plain struct{ ID string }
	owner.expect(owner.do("POST", "/contacts", `{"email":"plain@example.com"}`), 201).json(&plain)
	const missingID = "01KBQ40M2N3P4Q5R6S7T8V9W0X"

	cases := []struct {
		name         string
		u            user
		method, path string
		body         string
		status       int
		code         string
	}{
		{"negative amount", svc, "POST", "/purchases", purchaseJSON("x@example.com", "bad-1", "o", -1, "USD"), 422, "validation_failed"},
		{"currency ABC", svc, "POST", "/purchases", purchaseJSON("x@example.com", "bad-2", "o", 100, "ABC"), 422, "validation_failed"},
		{"lowercase currency", svc, "POST", "/purchases", purchaseJSON("x@example.com", "bad-3", "o", 100, "usd"), 422, "validation_failed"},
		{"missing orderId", svc, "POST", "/purchases", `{"email":"x@example.com","offerId":"o","amount":100,"currency":"USD"}`, 422, "validation_failed"},
		{"missing email", svc, "POST", "/purchases", `{"offerId":"o","amount":100,"currency":"USD","orderId":"bad-4"}`, 422, "validation_failed"},
		{"owner records a purchase", owner, "POST", "/purchases", purchaseJSON("x@example.com", "bad-5", "o", 100, "USD"), 403, "forbidden"},
		{"grant to another site's contact", ownerB, "POST", "/contacts/" + plain.ID + "/grants", `{"offerId":"o"}`, 404, "contact_not_found"},
		{"grant to no contact", owner, "POST", "/contacts/" + missingID + "/grants", `{"offerId":"o"}`, 404, "contact_not_found"},
		{"revoke another site's purchase", ownerB, "DELETE", "/contacts/" + plain.ID + "/purchases/" + missingID, "", 404, "purchase_not_found"},
		{"refund no purchase", owner, "POST", "/purchases/" + missingID + "/refunds", `{"amount":1}`, 404, "purchase_not_found"},
		{"mute a plain contact", owner, "PUT", "/contacts/" + plain.ID + "/muted", "", 409, "not_a_customer"},
		{"externalId on a plain contact", owner, "PATCH", "/contacts/" + plain.ID, `{"externalId":"member-1"}`, 409, "not_a_customer"},
		{"activity type dance", svc, "POST", "/contacts/" + plain.ID + "/activity", `{"type":"dance"}`, 422, "validation_failed"},
		{"activity by the owner", owner, "POST", "/contacts/" + plain.ID + "/activity", `{"type":"sign_in"}`, 403, "forbidden"},
		{"activity on another site's contact", as(t, b, "service"), "POST", "/contacts/" + plain.ID + "/activity", `{"type":"sign_in"}`, 404, "contact_not_found"},
		{"lifecycle of another site's contact", ownerB, "GET", "/contacts/" + plain.ID + "/lifecycle", "", 404, "contact_not_found"},
		{"list kind foo", owner, "GET", "/contacts?kind=foo", "", 422, "validation_failed"},
		{"list activeWithinDays 0", owner, "GET", "/contacts?activeWithinDays=0", "", 422, "validation_failed"},
	}
	for _, tc := range cases {
		r := tc.u.do(tc.method, tc.path, tc.body)
		if r.status != tc.status || r.code() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
	}
}

// The checkout's webhook fires twice at once for one order: one purchase.
func TestConcurrentRetriesOfOneOrder(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	const n = 8
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = svc.do("POST", "/purchases", purchaseJSON("twice@example.com", "dup-order", "course", 4900, "USD"))
		}()
	}
	wg.Wait()
	created, ids := 0, map[string]bool{}
	contactID := ""
	for i, r := range replies {
		var p purchase
		r.json(&p)
		switch r.status {
		case 201:
			created++
		case 200:
		default:
			t.Errorf("delivery %d: %d %s", i, r.status, r.body)
			continue
		}
		ids[p.ID], contactID = true, p.ContactID
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d created, %d distinct purchases; want 1 and 1", created, len(ids))
	}
	if prof, _ := owner.profile(contactID); prof.PurchasesCount != 1 || prof.NetRevenue["USD"] != 4900 {
		t.Errorf("count %d revenue %v after one order delivered %d times", prof.PurchasesCount, prof.NetRevenue, n)
	}
}

// Two admins grant the same offer at once: one grant, one offer_already_held.
func TestConcurrentGrantsOfOneOffer(t *testing.T) {
	s := site(t)
	owner, admin := as(t, s, "owner"), as(t, s, "admin")
	var c struct{ ID string }
	owner.expect(owner.do("POST", "/contacts", `{"email":"both@example.com"}`), 201).json(&c)
	replies := make([]reply, 2)
	var wg sync.WaitGroup
	for i, u := range []user{owner, admin} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = u.do("POST", "/contacts/"+c.ID+"/grants", `{"offerId":"vip"}`)
		}()
	}
	wg.Wait()
	if a, b := replies[0].status, replies[1].status; !(a == 201 && b == 409 || a == 409 && b == 201) {
		t.Errorf("concurrent grants: %d %s / %d %s", a, replies[0].body, b, replies[1].body)
	}
	if prof, _ := owner.profile(c.ID); prof.PurchasesCount != 1 || len(prof.Purchases) != 1 {
		t.Errorf("count %d, %d purchases after one grant", prof.PurchasesCount, len(prof.Purchases))
	}
}

// Last activity only moves forward (as store.RecordActivity documents): a
// sign-in reported late does not make an active customer look inactive.
//
// Known failing (bug in shared/store RecordActivity, not fixed here): the
// update sets lastActivityAt = at unconditionally, so an older "at" moves it
// back and the customer drops out of activeWithinDays.
func TestLateActivityDoesNotMoveLastActivityBack(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	var p purchase
	svc.expect(svc.do("POST", "/purchases", purchaseJSON("late@example.com", "late-1", "course", 100, "USD")), 201).json(&p)
	svc.expect(svc.do("POST", "/contacts/"+p.ContactID+"/activity", `{"type":"sign_in"}`), 200)
	before, _ := owner.profile(p.ContactID)
	old := time.Now().UTC().Add(-72 * time.Hour).Format(time.RFC3339)
	svc.expect(svc.do("POST", "/contacts/"+p.ContactID+"/activity", `{"type":"sign_in","at":"`+old+`"}`), 200)
	after, _ := owner.profile(p.ContactID)
	if after.SignInCount != 2 {
		t.Errorf("signInCount %d, want 2", after.SignInCount)
	}
	if before.LastActivityAt == nil || after.LastActivityAt == nil || *after.LastActivityAt != *before.LastActivityAt {
		t.Errorf("lastActivityAt moved from %v to %v by a sign-in reported for %s", deref(before.LastActivityAt), deref(after.LastActivityAt), old)
	}
	if list := owner.expect(owner.do("GET", "/contacts?kind=customer&activeWithinDays=1", ""), 200); !strings.Contains(string(list.body), p.ContactID) {
		t.Errorf("customer who signed in just now is not in activeWithinDays=1: %s", list.body)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Refunds racing on one purchase never give back more than was paid.
func TestConcurrentRefundsNeverExceedThePurchase(t *testing.T) {
	s := site(t)
	svc, owner := as(t, s, "service"), as(t, s, "owner")
	var p purchase
	svc.expect(svc.do("POST", "/purchases", purchaseJSON("refunds@example.com", "ref-1", "course", 4900, "USD")), 201).json(&p)
	const n = 5
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = owner.do("POST", "/purchases/"+p.ID+"/refunds", fmt.Sprintf(`{"amount":1500,"refundId":"race-%d"}`, i))
		}()
	}
	wg.Wait()
	ok := 0
	for i, r := range replies {
		switch {
		case r.status == 201:
			ok++
		case r.status == 409 && r.code() == "refund_exceeds_purchase":
		default:
			t.Errorf("refund %d: %d %s", i, r.status, r.body)
		}
	}
	prof, _ := owner.profile(p.ContactID)
	if ok != 3 || prof.NetRevenue["USD"] != 4900-3*1500 {
		t.Errorf("%d refunds of 1500 on 4900 went through, net revenue %v; want 3 and 400", ok, prof.NetRevenue)
	}
}
