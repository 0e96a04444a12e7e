package api_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/api"
	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
)

const (
	purchaseID      = "01KBQ40M2N3P4Q5R6S7T8V9W0X"
	firstPurchaseID = "01KBQ3ZZZZ0000000000000001"
)

// customerReq returns the request of one customer operation: the sample
// event from events/ when it is there, otherwise one built from the
// create-contact sample. Route, path parameters, query, role and body are
// always this test's, so the cases do not depend on what the sample holds.
func customerReq(t *testing.T, name, routeKey string, params map[string]string, role, body string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	method, route, _ := strings.Cut(routeKey, " ")
	var req events.APIGatewayV2HTTPRequest
	if _, err := os.Stat("../../events/" + name + ".json"); err == nil {
		req = fixture(t, name)
		if req.RouteKey != routeKey {
			t.Errorf("events/%s.json: routeKey %q, want %q", name, req.RouteKey, routeKey)
		}
	} else {
		req = fixture(t, "create-contact")
		req.RouteKey, req.RequestContext.RouteKey, req.RequestContext.HTTP.Method = routeKey, routeKey, method
	}
	path := route
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	req.RawPath, req.RequestContext.HTTP.Path = path, path
	req.PathParameters = params
	req.QueryStringParameters = nil
	req.RawQueryString = ""
	req = withHeader(withRole(req, role), "content-type", "application/json")
	req.Body = body
	return req
}

func withQuery(req events.APIGatewayV2HTTPRequest, params map[string]string) events.APIGatewayV2HTTPRequest {
	req.QueryStringParameters = params
	return req
}

// claimEmail is the email the request's token carries.
func claimEmail(req events.APIGatewayV2HTTPRequest) string {
	return req.RequestContext.Authorizer.JWT.Claims["email"]
}

func ptr[T any](v T) *T { return &v }

// jsonObject decodes a response body into a generic object.
func jsonObject(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, resp.Body)
	}
	return m
}

const purchaseBody = `{"email":"Grace@Example.org","name":"Grace Hopper","offerId":"offer-course","offerTitle":"The Course",` +
	`"products":[{"id":"course","title":"The Course"},{"id":"course","title":"dup"}],"amount":4900,"currency":"USD","orderId":"order-1001"}`

// purchaseWith returns purchaseBody with one field replaced (or removed,
// for a nil value).
func purchaseWith(t *testing.T, field string, value any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(purchaseBody), &m); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecordPurchase(t *testing.T) {
	req := func(role, body string) events.APIGatewayV2HTTPRequest {
		return customerReq(t, "record-purchase", "POST /purchases", nil, role, body)
	}
	firstAt := now.Add(-time.Hour)
	first := contacts.Purchase{ID: firstPurchaseID, ContactID: contactID, Kind: contacts.KindPurchase, OfferID: "offer-course",
		OfferTitle: "The Course", Products: []contacts.Product{{ID: "course", Title: "The Course"}}, OrderID: "order-1001",
		Amount: ptr[int64](4900), Currency: "USD", Refunded: ptr[int64](0), Status: contacts.StatusActive, At: firstAt}
	validation := func(name, body, field string) testCase {
		return testCase{name: name, handler: api.RecordPurchase, req: req("service", body), wantStatus: 422, wantCode: "validation_failed", wantField: field}
	}
	tests := []testCase{
		{name: "new purchase is 201", handler: api.RecordPurchase, req: req("service", purchaseBody),
			store: fakeStore{recordPurchase: func(c contacts.Contact, p contacts.Purchase, e contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
				switch {
				case c.Site != "demo" || c.EmailKey != "grace@example.org" || c.Kind != contacts.KindCustomer || c.Name != "Grace Hopper":
					return p, false, apperr.Wrap(nil, "bad new contact")
				case p.OrderID != "order-1001" || p.Amount == nil || *p.Amount != 4900 || p.Currency != "USD" || p.Kind != contacts.KindPurchase:
					return p, false, apperr.Wrap(nil, "bad purchase")
				case len(p.Products) != 1 || p.Products[0].ID != "course":
					return p, false, apperr.Wrap(nil, "duplicate products passed to store")
				case e.Type != contacts.EventPurchased || e.Detail["purchaseId"] != p.ID:
					return p, false, apperr.Wrap(nil, "bad lifecycle entry")
				}
				p.ContactID = contactID
				return p, false, nil
			}},
			wantStatus: 201,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				var p contacts.Purchase
				_ = json.Unmarshal([]byte(resp.Body), &p)
				if !contacts.ValidID(p.ID) || p.ContactID != contactID || p.Amount == nil || *p.Amount != 4900 || p.Currency != "USD" || p.Status != "active" {
					t.Errorf("purchase %s", resp.Body)
				}
				if resp.Headers["Location"] != "/contacts/"+contactID {
					t.Errorf("Location %q", resp.Headers["Location"])
				}
			}},
		{name: "retried order is 200 with the first purchase", handler: api.RecordPurchase, req: req("service", purchaseWith(t, "amount", 5900)),
			store: fakeStore{recordPurchase: func(contacts.Contact, contacts.Purchase, contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
				return first, true, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				var p contacts.Purchase
				_ = json.Unmarshal([]byte(resp.Body), &p)
				if p.ID != firstPurchaseID || p.Amount == nil || *p.Amount != 4900 || !p.At.Equal(firstAt) {
					t.Errorf("retry answered %s, want the first purchase", resp.Body)
				}
			}},
		{name: "amount zero (a free offer) is accepted", handler: api.RecordPurchase, req: req("service", purchaseWith(t, "amount", 0)),
			store: fakeStore{recordPurchase: func(_ contacts.Contact, p contacts.Purchase, _ contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
				p.ContactID = contactID
				return p, false, nil
			}},
			wantStatus: 201,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"amount":0`) {
					t.Errorf("free purchase lost its amount: %s", resp.Body)
				}
			}},
		validation("negative amount", purchaseWith(t, "amount", -100), "amount"),
		validation("missing amount", purchaseWith(t, "amount", nil), "amount"),
		validation("amount over the limit", purchaseWith(t, "amount", int64(contacts.MaxAmount)+1), "amount"),
		validation("unknown currency XYZ", purchaseWith(t, "currency", "XYZ"), "currency"),
		validation("lowercase currency usd", purchaseWith(t, "currency", "usd"), "currency"),
		validation("missing currency", purchaseWith(t, "currency", nil), "currency"),
		validation("missing orderId", purchaseWith(t, "orderId", nil), "orderId"),
		validation("blank orderId", purchaseWith(t, "orderId", "  "), "orderId"),
		validation("missing email", purchaseWith(t, "email", nil), "email"),
		validation("invalid email", purchaseWith(t, "email", "not-an-email"), "email"),
		validation("missing offerId", purchaseWith(t, "offerId", nil), "offerId"),
		validation("future purchasedAt", purchaseWith(t, "purchasedAt", "2099-01-01T00:00:00Z"), "purchasedAt"),
		{name: "amount as a string", handler: api.RecordPurchase, req: req("service", purchaseWith(t, "amount", "49.00")), wantStatus: 400, wantCode: "wrong_type", wantField: "amount"},
		{name: "site in the body is refused", handler: api.RecordPurchase, req: req("service", purchaseWith(t, "site", "other")), wantStatus: 400, wantCode: "unknown_field", wantField: "site"},
		{name: "order in flight is a 409, not a 500", handler: api.RecordPurchase, req: req("service", purchaseBody),
			store: fakeStore{recordPurchase: func(contacts.Contact, contacts.Purchase, contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
				return contacts.Purchase{}, false, apperr.New(apperr.Conflict, "order_in_flight", "retry")
			}},
			wantStatus: 409, wantCode: "order_in_flight"},
	}
	for _, role := range []string{"owner", "admin", "assistant", "support"} {
		tests = append(tests, testCase{name: role + " may not record purchases", handler: api.RecordPurchase, req: req(role, purchaseBody), wantStatus: 403, wantCode: "forbidden"})
	}
	run(t, tests)
}

func TestRefundPurchase(t *testing.T) {
	req := func(role, body string) events.APIGatewayV2HTTPRequest {
		return customerReq(t, "refund-purchase", "POST /purchases/{purchaseId}/refunds", map[string]string{"purchaseId": purchaseID}, role, body)
	}
	refunded := fakeStore{refund: func(site, pid string, r contacts.Refund, e contacts.LifecycleEntry) (contacts.Refund, error) {
		if site != "demo" || pid != purchaseID || r.Amount != 1000 || r.ID != "refund-1" || e.Type != contacts.EventRefunded {
			return r, apperr.Wrap(nil, "unexpected refund")
		}
		r.ContactID, r.Currency = contactID, "USD"
		return r, nil
	}}
	tests := []testCase{
		{name: "partial refund is 201", handler: api.RefundPurchase, req: req("owner", `{"amount":1000,"refundId":"refund-1","reason":"partial"}`), store: refunded,
			wantStatus: 201,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				var r contacts.Refund
				_ = json.Unmarshal([]byte(resp.Body), &r)
				if r.ID != "refund-1" || r.Amount != 1000 || r.Currency != "USD" || r.PurchaseID != purchaseID {
					t.Errorf("refund %s", resp.Body)
				}
			}},
		{name: "service may refund", handler: api.RefundPurchase, req: req("service", `{"amount":1000,"refundId":"refund-1"}`), store: refunded, wantStatus: 201},
		{name: "amount 0", handler: api.RefundPurchase, req: req("owner", `{"amount":0}`), wantStatus: 422, wantCode: "validation_failed", wantField: "amount"},
		{name: "negative amount", handler: api.RefundPurchase, req: req("owner", `{"amount":-500}`), wantStatus: 422, wantCode: "validation_failed", wantField: "amount"},
		{name: "missing amount", handler: api.RefundPurchase, req: req("owner", `{"reason":"x"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "amount"},
		{name: "more than was paid", handler: api.RefundPurchase, req: req("owner", `{"amount":999999}`),
			store: fakeStore{refund: func(string, string, contacts.Refund, contacts.LifecycleEntry) (contacts.Refund, error) {
				return contacts.Refund{}, contacts.ErrRefundTooLarge
			}},
			wantStatus: 409, wantCode: "refund_exceeds_purchase"},
		{name: "a grant has nothing to refund", handler: api.RefundPurchase, req: req("owner", `{"amount":1}`),
			store: fakeStore{refund: func(string, string, contacts.Refund, contacts.LifecycleEntry) (contacts.Refund, error) {
				return contacts.Refund{}, contacts.ErrNothingToRefund
			}},
			wantStatus: 409, wantCode: "not_refundable"},
		{name: "purchase id that is no id", handler: api.RefundPurchase,
			req:        customerReq(t, "refund-purchase", "POST /purchases/{purchaseId}/refunds", map[string]string{"purchaseId": "order-1001"}, "owner", `{"amount":1}`),
			wantStatus: 404, wantCode: "purchase_not_found"},
		{name: "assistant may not refund", handler: api.RefundPurchase, req: req("assistant", `{"amount":1}`), wantStatus: 403, wantCode: "forbidden"},
		{name: "support may not refund", handler: api.RefundPurchase, req: req("support", `{"amount":1}`), wantStatus: 403, wantCode: "forbidden"},
	}
	run(t, tests)
}

func TestGrantOffer(t *testing.T) {
	const body = `{"offerId":"vip-club","offerTitle":"VIP Club","products":[{"id":"forum","title":"Forum"}]}`
	req := func(role string) events.APIGatewayV2HTTPRequest {
		return customerReq(t, "grant-offer", "POST /contacts/{id}/grants", map[string]string{"id": contactID}, role, body)
	}
	owner := req("owner")
	ownerEmail := claimEmail(owner)
	tests := []testCase{
		{name: "owner grants: 201 with grantedBy from the token", handler: api.GrantOffer, req: owner,
			store: fakeStore{grant: func(site string, p contacts.Purchase, e contacts.LifecycleEntry) error {
				if site != "demo" || p.ContactID != contactID || p.Kind != contacts.KindGrant || p.Amount != nil ||
					p.GrantedBy == nil || *p.GrantedBy != (contacts.Actor{Email: ownerEmail, Role: "owner"}) || e.Type != contacts.EventGranted {
					return apperr.Wrap(nil, "unexpected grant")
				}
				return nil
			}},
			wantStatus: 201,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				m := jsonObject(t, resp)
				by, _ := m["grantedBy"].(map[string]any)
				if by["email"] != ownerEmail || by["role"] != "owner" || m["kind"] != "grant" || m["status"] != "active" || m["contactId"] != contactID {
					t.Errorf("grant %s", resp.Body)
				}
				for _, k := range []string{"amount", "currency", "refunded"} {
					if _, ok := m[k]; ok {
						t.Errorf("a grant carries %q: %s", k, resp.Body)
					}
				}
			}},
		{name: "admin grants", handler: api.GrantOffer, req: req("admin"),
			store: fakeStore{grant: func(_ string, p contacts.Purchase, _ contacts.LifecycleEntry) error {
				if p.GrantedBy == nil || p.GrantedBy.Role != "admin" {
					return apperr.Wrap(nil, "grantedBy")
				}
				return nil
			}},
			wantStatus: 201},
		{name: "offer already held", handler: api.GrantOffer, req: owner,
			store:      fakeStore{grant: func(string, contacts.Purchase, contacts.LifecycleEntry) error { return contacts.ErrOfferHeld }},
			wantStatus: 409, wantCode: "offer_already_held"},
		{name: "another site's contact", handler: api.GrantOffer, req: owner,
			store:      fakeStore{grant: func(string, contacts.Purchase, contacts.LifecycleEntry) error { return apperr.ErrContactNotFound }},
			wantStatus: 404, wantCode: "contact_not_found"},
		{name: "missing offerId", handler: api.GrantOffer, req: withBody(owner, `{"offerTitle":"VIP"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "offerId"},
		{name: "product without id", handler: api.GrantOffer, req: withBody(owner, `{"offerId":"o","products":[{"title":"x"}]}`), wantStatus: 422, wantCode: "validation_failed", wantField: "products"},
		{name: "grantedBy in the body is refused", handler: api.GrantOffer, req: withBody(owner, `{"offerId":"o","grantedBy":{"email":"x@y.z"}}`), wantStatus: 400, wantCode: "unknown_field"},
	}
	for _, role := range []string{"support", "assistant", "service"} {
		tests = append(tests, testCase{name: role + " may not grant", handler: api.GrantOffer, req: req(role), wantStatus: 403, wantCode: "forbidden"})
	}
	run(t, tests)
}

func TestEndPurchase(t *testing.T) {
	req := func(role string) events.APIGatewayV2HTTPRequest {
		return customerReq(t, "end-purchase", "DELETE /contacts/{id}/purchases/{purchaseId}", map[string]string{"id": contactID, "purchaseId": purchaseID}, role, "")
	}
	run(t, []testCase{
		{name: "admin revokes a grant", handler: api.EndPurchase, req: req("admin"),
			store: fakeStore{endPurchase: func(site, cid, pid string, by contacts.Actor, e contacts.LifecycleEntry) (contacts.Purchase, error) {
				if site != "demo" || cid != contactID || pid != purchaseID || by.Role != "admin" || by.Email == "" {
					return contacts.Purchase{}, apperr.Wrap(nil, "unexpected end")
				}
				at := now
				return contacts.Purchase{ID: pid, ContactID: cid, Kind: contacts.KindGrant, OfferID: "vip-club", Products: []contacts.Product{},
					Status: contacts.StatusRevoked, At: now.Add(-time.Hour), RevokedBy: &by, EndedAt: &at}, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				m := jsonObject(t, resp)
				by, _ := m["revokedBy"].(map[string]any)
				if m["status"] != "revoked" || by["role"] != "admin" || m["endedAt"] == nil {
					t.Errorf("revoked %s", resp.Body)
				}
			}},
		{name: "already ended", handler: api.EndPurchase, req: req("owner"),
			store: fakeStore{endPurchase: func(string, string, string, contacts.Actor, contacts.LifecycleEntry) (contacts.Purchase, error) {
				return contacts.Purchase{}, contacts.ErrAlreadyEnded
			}},
			wantStatus: 409, wantCode: "purchase_already_ended"},
		{name: "no such purchase", handler: api.EndPurchase, req: req("owner"),
			store: fakeStore{endPurchase: func(string, string, string, contacts.Actor, contacts.LifecycleEntry) (contacts.Purchase, error) {
				return contacts.Purchase{}, contacts.ErrPurchaseNotFound
			}},
			wantStatus: 404, wantCode: "purchase_not_found"},
		{name: "support may not revoke", handler: api.EndPurchase, req: req("support"), wantStatus: 403, wantCode: "forbidden"},
	})
}

func TestMuteContact(t *testing.T) {
	mute := customerReq(t, "mute-contact", "PUT /contacts/{id}/muted", map[string]string{"id": contactID}, "owner", "")
	unmute := customerReq(t, "unmute-contact", "DELETE /contacts/{id}/muted", map[string]string{"id": contactID}, "support", "")
	setMuted := fakeStore{setMuted: func(site, id string, muted bool) (contacts.Contact, error) {
		c := stored(id, "ada@example.com", 3)
		c.Kind, c.Muted = contacts.KindCustomer, muted
		return c, nil
	}}
	run(t, []testCase{
		{name: "mute a customer", handler: api.MuteContact, req: mute, store: setMuted, wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"muted":true`) || resp.Headers["ETag"] != `"3"` {
					t.Errorf("muted %s %v", resp.Body, resp.Headers)
				}
			}},
		{name: "support unmutes", handler: api.UnmuteContact, req: unmute, store: setMuted, wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"muted":false`) {
					t.Errorf("unmuted %s", resp.Body)
				}
			}},
		{name: "mute a plain contact", handler: api.MuteContact, req: mute,
			store: fakeStore{setMuted: func(string, string, bool) (contacts.Contact, error) {
				return contacts.Contact{}, contacts.ErrNotCustomer
			}},
			wantStatus: 409, wantCode: "not_a_customer"},
		{name: "assistant may not mute", handler: api.MuteContact, req: withRole(mute, "assistant"), wantStatus: 403, wantCode: "forbidden"},
	})
}

func TestRecordActivity(t *testing.T) {
	req := func(role, body string) events.APIGatewayV2HTTPRequest {
		return customerReq(t, "record-activity", "POST /contacts/{id}/activity", map[string]string{"id": contactID}, role, body)
	}
	run(t, []testCase{
		{name: "sign-in", handler: api.RecordActivity, req: req("service", `{"type":"sign_in"}`),
			store: fakeStore{recordActivity: func(site, id string, signIn bool, at time.Time, e *contacts.LifecycleEntry) (contacts.Contact, error) {
				if site != "demo" || id != contactID || !signIn || !at.Equal(now) || e == nil || e.Type != contacts.EventSignedIn {
					return contacts.Contact{}, apperr.Wrap(nil, "unexpected activity")
				}
				c := stored(id, "ada@example.com", 2)
				c.SignInCount, c.LastActivityAt = 1, &at
				return c, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				m := jsonObject(t, resp)
				if m["signInCount"] != float64(1) || m["lastActivityAt"] != now.Format(time.RFC3339) {
					t.Errorf("activity %s", resp.Body)
				}
			}},
		{name: "other activity writes no lifecycle entry", handler: api.RecordActivity, req: req("service", `{"type":"activity"}`),
			store: fakeStore{recordActivity: func(_, id string, signIn bool, at time.Time, e *contacts.LifecycleEntry) (contacts.Contact, error) {
				if signIn || e != nil {
					return contacts.Contact{}, apperr.Wrap(nil, "activity counted as a sign-in")
				}
				return stored(id, "ada@example.com", 2), nil
			}},
			wantStatus: 200},
		{name: "type dance", handler: api.RecordActivity, req: req("service", `{"type":"dance"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "type"},
		{name: "missing type", handler: api.RecordActivity, req: req("service", `{}`), wantStatus: 422, wantCode: "validation_failed", wantField: "type"},
		{name: "future at", handler: api.RecordActivity, req: req("service", `{"type":"sign_in","at":"2099-01-01T00:00:00Z"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "at"},
		{name: "owner may not record activity", handler: api.RecordActivity, req: req("owner", `{"type":"sign_in"}`), wantStatus: 403, wantCode: "forbidden"},
		{name: "unknown contact", handler: api.RecordActivity, req: req("service", `{"type":"sign_in"}`),
			store: fakeStore{recordActivity: func(string, string, bool, time.Time, *contacts.LifecycleEntry) (contacts.Contact, error) {
				return contacts.Contact{}, apperr.ErrContactNotFound
			}},
			wantStatus: 404, wantCode: "contact_not_found"},
	})
}

func TestListLifecycle(t *testing.T) {
	req := func(role string, q map[string]string) events.APIGatewayV2HTTPRequest {
		return withQuery(customerReq(t, "list-lifecycle", "GET /contacts/{id}/lifecycle", map[string]string{"id": contactID}, role, ""), q)
	}
	page := fakeStore{lifecycle: func(site, id string, q contacts.LifecycleQuery) (contacts.Page[contacts.LifecycleEntry], error) {
		if site != "demo" || id != contactID || q.Limit != 5 || q.Type != "purchased" {
			return contacts.Page[contacts.LifecycleEntry]{}, apperr.Wrap(nil, "unexpected query")
		}
		return contacts.Page[contacts.LifecycleEntry]{Items: []contacts.LifecycleEntry{{ID: firstPurchaseID, Type: "purchased", At: now,
			Detail: map[string]string{"offerId": "offer-course", "amount": "4900", "currency": "USD"}}}}, nil
	}}
	run(t, []testCase{
		{name: "owner sees amounts", handler: api.ListLifecycle, req: req("owner", map[string]string{"limit": "5", "type": "purchased"}), store: page, wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"amount":"4900"`) || !strings.Contains(resp.Body, `"next":null`) {
					t.Errorf("lifecycle %s", resp.Body)
				}
			}},
		{name: "assistant sees no amounts", handler: api.ListLifecycle, req: req("assistant", map[string]string{"limit": "5", "type": "purchased"}), store: page, wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if strings.Contains(resp.Body, "amount") || strings.Contains(resp.Body, "USD") || !strings.Contains(resp.Body, "offer-course") {
					t.Errorf("lifecycle for assistant %s", resp.Body)
				}
			}},
		{name: "limit 0", handler: api.ListLifecycle, req: req("owner", map[string]string{"limit": "0"}), wantStatus: 422, wantCode: "validation_failed", wantField: "limit"},
		{name: "type with a #", handler: api.ListLifecycle, req: req("owner", map[string]string{"type": "a#b"}), wantStatus: 422, wantCode: "validation_failed", wantField: "type"},
		{name: "service may not read", handler: api.ListLifecycle, req: req("service", nil), wantStatus: 403, wantCode: "forbidden"},
	})
}

// customerProfile is a customer with one paid purchase, as the store reads it.
func customerProfile(id string, revenue map[string]int64) contacts.Profile {
	c := stored(id, "ada@example.com", 5)
	since := now.Add(-time.Hour)
	c.Kind, c.CustomerSince, c.PurchasesCount = contacts.KindCustomer, &since, 1
	return contacts.Profile{Contact: c, Notes: []contacts.Note{},
		Lifecycle: []contacts.LifecycleEntry{{ID: firstPurchaseID, Type: "purchased", At: since,
			Detail: map[string]string{"offerId": "offer-course", "purchaseId": purchaseID, "amount": "4900", "currency": "USD"}}},
		Purchases: []contacts.Purchase{{ID: purchaseID, ContactID: id, Kind: contacts.KindPurchase, OfferID: "offer-course", OfferTitle: "The Course",
			Products: []contacts.Product{{ID: "course", Title: "The Course"}}, OrderID: "order-1001",
			Amount: ptr[int64](4900), Currency: "USD", Refunded: ptr[int64](0), Status: contacts.StatusActive, At: since}},
		ProductsOwned: []contacts.Product{{ID: "course", Title: "The Course"}},
		NetRevenue:    revenue,
	}
}

func TestProfileRevenueByRole(t *testing.T) {
	get := fixture(t, "get-contact")
	profileStore := func(revenue map[string]int64) fakeStore {
		return fakeStore{getProfile: func(_, id string, _ int, _ time.Time) (contacts.Profile, error) {
			return customerProfile(id, revenue), nil
		}}
	}
	noFinancials := func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
		m := jsonObject(t, resp)
		if _, ok := m["netRevenue"]; ok {
			t.Errorf("netRevenue shown: %s", resp.Body)
		}
		purchases, _ := m["purchases"].([]any)
		if len(purchases) != 1 {
			t.Fatalf("purchases %v", m["purchases"])
		}
		p := purchases[0].(map[string]any)
		for _, k := range []string{"amount", "currency", "refunded"} {
			if _, ok := p[k]; ok {
				t.Errorf("purchase shows %q: %s", k, resp.Body)
			}
		}
		if p["offerTitle"] != "The Course" || m["kind"] != "customer" {
			t.Errorf("non-financial data lost: %s", resp.Body)
		}
		if strings.Contains(resp.Body, "4900") || strings.Contains(resp.Body, "USD") {
			t.Errorf("an amount leaks somewhere in the profile: %s", resp.Body)
		}
	}
	netRevenue := func(want string) func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
		return func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
				t.Fatal(err)
			}
			got, ok := m["netRevenue"]
			if !ok || string(got) != want {
				t.Errorf("netRevenue %s (present %v), want %s: %s", got, ok, want, resp.Body)
			}
			if !strings.Contains(string(m["purchases"]), `"amount":4900`) || !strings.Contains(string(m["purchases"]), `"refunded":0`) {
				t.Errorf("owner lost purchase amounts: %s", m["purchases"])
			}
		}
	}
	run(t, []testCase{
		{name: "assistant", handler: api.GetContact, req: withRole(get, "assistant"), store: profileStore(map[string]int64{"USD": 4900}), wantStatus: 200, check: noFinancials},
		{name: "support", handler: api.GetContact, req: withRole(get, "support"), store: profileStore(map[string]int64{"USD": 4900}), wantStatus: 200, check: noFinancials},
		{name: "owner", handler: api.GetContact, req: withRole(get, "owner"), store: profileStore(map[string]int64{"USD": 4900}), wantStatus: 200, check: netRevenue(`{"USD":4900}`)},
		{name: "admin", handler: api.GetContact, req: withRole(get, "admin"), store: profileStore(map[string]int64{"USD": 4900, "EUR": 100}), wantStatus: 200, check: netRevenue(`{"EUR":100,"USD":4900}`)},
		{name: "owner, no revenue stored", handler: api.GetContact, req: withRole(get, "owner"), store: profileStore(nil), wantStatus: 200, check: netRevenue(`{}`)},
		{name: "owner, empty revenue", handler: api.GetContact, req: withRole(get, "owner"), store: profileStore(map[string]int64{}), wantStatus: 200, check: netRevenue(`{}`)},
	})
}

func TestListContactsCustomerFilters(t *testing.T) {
	q := func(params map[string]string) events.APIGatewayV2HTTPRequest {
		r := fixture(t, "list-contacts")
		r.QueryStringParameters = params
		return r
	}
	run(t, []testCase{
		{name: "customers active within 7 days", handler: api.ListContacts, req: q(map[string]string{"kind": "customer", "activeWithinDays": "7"}),
			store: fakeStore{listContacts: func(_ string, lq contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
				if lq.Kind != contacts.KindCustomer || !lq.ActiveSince.Equal(now.Add(-7*24*time.Hour)) {
					return contacts.Page[contacts.Contact]{}, apperr.Wrap(nil, "unexpected query")
				}
				return contacts.Page[contacts.Contact]{Items: []contacts.Contact{}}, nil
			}},
			wantStatus: 200},
		{name: "kind foo", handler: api.ListContacts, req: q(map[string]string{"kind": "foo"}), wantStatus: 422, wantCode: "validation_failed", wantField: "kind"},
		{name: "activeWithinDays 0", handler: api.ListContacts, req: q(map[string]string{"activeWithinDays": "0"}), wantStatus: 422, wantCode: "validation_failed", wantField: "activeWithinDays"},
		{name: "activeWithinDays -3", handler: api.ListContacts, req: q(map[string]string{"activeWithinDays": "-3"}), wantStatus: 422, wantCode: "validation_failed", wantField: "activeWithinDays"},
		{name: "activeWithinDays soon", handler: api.ListContacts, req: q(map[string]string{"activeWithinDays": "soon"}), wantStatus: 422, wantCode: "validation_failed", wantField: "activeWithinDays"},
	})
}

func TestUpdateExternalID(t *testing.T) {
	req := fixture(t, "update-contact")
	plain := func(string, string) (contacts.Contact, error) { return stored(contactID, "ada@example.com", 1), nil }
	customer := func(string, string) (contacts.Contact, error) {
		c := stored(contactID, "ada@example.com", 1)
		c.Kind = contacts.KindCustomer
		return c, nil
	}
	run(t, []testCase{
		{name: "externalId on a plain contact", handler: api.UpdateContact, req: withBody(req, `{"externalId":"member-42"}`),
			store: fakeStore{getContact: plain}, wantStatus: 409, wantCode: "not_a_customer"},
		{name: "externalId on a customer", handler: api.UpdateContact, req: withBody(req, `{"externalId":" member-42 "}`),
			store: fakeStore{getContact: customer, updateContact: func(_, c contacts.Contact) error {
				if c.ExternalID != "member-42" {
					return apperr.Wrap(nil, "externalId not cleaned")
				}
				return nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"externalId":"member-42"`) {
					t.Errorf("body %s", resp.Body)
				}
			}},
		{name: "externalId taken", handler: api.UpdateContact, req: withBody(req, `{"externalId":"member-42"}`),
			store:      fakeStore{getContact: customer, updateContact: func(_, _ contacts.Contact) error { return contacts.ErrExternalIDTaken }},
			wantStatus: 409, wantCode: "external_id_taken"},
		{name: "externalId with a #", handler: api.UpdateContact, req: withBody(req, `{"externalId":"a#b"}`),
			store: fakeStore{getContact: customer}, wantStatus: 422, wantCode: "validation_failed", wantField: "externalId"},
	})
}
