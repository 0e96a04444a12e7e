package api_test

import (
	"context"
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

var now = time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)

const contactID = "01KBQ3Z8J6W1V2X3Y4Z5A6B7C8"

// fixture loads a sample event from events/ (the ones sam local invoke uses).
func fixture(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile("../../events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	if req.PathParameters["id"] != "" {
		req.PathParameters["id"] = contactID
	}
	return req
}

func withRole(req events.APIGatewayV2HTTPRequest, role string) events.APIGatewayV2HTTPRequest {
	claims := map[string]string{}
	for k, v := range req.RequestContext.Authorizer.JWT.Claims {
		claims[k] = v
	}
	claims["role"] = role
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	return req
}

func withBody(req events.APIGatewayV2HTTPRequest, body string) events.APIGatewayV2HTTPRequest {
	req.Body = body
	return req
}

func withHeader(req events.APIGatewayV2HTTPRequest, k, v string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	for hk, hv := range req.Headers {
		h[hk] = hv
	}
	h[k] = v
	req.Headers = h
	return req
}

func stored(id, email string, version int64) contacts.Contact {
	_, key := contacts.NormalizeEmail(email)
	return contacts.Contact{ID: id, Site: "demo", Email: email, EmailKey: key, Name: "Ada Lovelace", Kind: contacts.KindContact,
		AddedAt: now.Add(-72 * time.Hour), StartDate: now.Add(-72 * time.Hour), Version: version, Tags: []string{}}
}

type problem struct {
	Code   string              `json:"code"`
	Status int                 `json:"status"`
	Fields []apperr.FieldError `json:"fields"`
}

type testCase struct {
	name       string
	handler    func(*contacts.Service) api.Handler
	req        events.APIGatewayV2HTTPRequest
	store      fakeStore
	wantStatus int
	wantCode   string // problem code for errors
	wantField  string // offending field, for validation errors
	check      func(t *testing.T, resp events.APIGatewayV2HTTPResponse)
}

func run(t *testing.T, tests []testCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			svc := contacts.NewService(&store, 365*24*time.Hour)
			svc.Now = func() time.Time { return now }
			resp, err := tt.handler(svc).Handle(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("handler returned an error (Lambda would report a crash): %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
					t.Errorf("content type %q, want application/problem+json", ct)
				}
				var p problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
					t.Fatalf("problem body: %v: %s", err, resp.Body)
				}
				if p.Code != tt.wantCode || p.Status != tt.wantStatus {
					t.Errorf("problem %+v, want code %q", p, tt.wantCode)
				}
				if tt.wantField != "" && (len(p.Fields) == 0 || p.Fields[0].Field != tt.wantField) {
					t.Errorf("fields %+v, want %q first", p.Fields, tt.wantField)
				}
			}
			if tt.check != nil {
				tt.check(t, resp)
			}
		})
	}
}

func TestCreateContact(t *testing.T) {
	req := fixture(t, "create-contact")
	accept := fakeStore{createContact: func(c contacts.Contact, added contacts.LifecycleEntry) error { return nil }}
	run(t, []testCase{
		{name: "created", handler: api.CreateContact, req: withBody(req, `{"email":"  Grace+News@Example.org ","name":"Grace\tHopper","tags":["VIP","vip"]}`),
			store: fakeStore{createContact: func(c contacts.Contact, added contacts.LifecycleEntry) error {
				if c.Site != "demo" || c.EmailKey != "grace+news@example.org" || added.Type != contacts.EventContactAdded {
					return apperr.Wrap(nil, "bad contact passed to store")
				}
				return nil
			}},
			wantStatus: 201,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				var c contacts.Contact
				_ = json.Unmarshal([]byte(resp.Body), &c)
				if c.Email != "Grace+News@Example.org" || c.Name != "Grace Hopper" || len(c.Tags) != 1 || c.Tags[0] != "vip" {
					t.Errorf("contact %+v", c)
				}
				if resp.Headers["Location"] != "/contacts/"+c.ID || resp.Headers["ETag"] != `"1"` {
					t.Errorf("headers %v", resp.Headers)
				}
			}},
		{name: "unicode address kept as given", handler: api.CreateContact, req: withBody(req, `{"email":"османов@письмо.example"}`), store: accept, wantStatus: 201},
		{name: "duplicate email", handler: api.CreateContact, req: req,
			store:      fakeStore{createContact: func(contacts.Contact, contacts.LifecycleEntry) error { return apperr.ErrEmailTaken }},
			wantStatus: 409, wantCode: "email_taken"},
		{name: "malformed JSON", handler: api.CreateContact, req: withBody(req, `{"email":`), wantStatus: 400, wantCode: "malformed_json"},
		{name: "invalid UTF-8", handler: api.CreateContact, req: withBody(req, "{\"email\":\"u8\xff@example.com\"}"), wantStatus: 400, wantCode: "malformed_json"},
		{name: "invisible character in the address", handler: api.CreateContact, req: withBody(req, `{"email":"zw\u200b@example.com"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "email"},
		{name: "two JSON values", handler: api.CreateContact, req: withBody(req, `{"email":"a@example.com"} {}`), wantStatus: 400, wantCode: "malformed_json"},
		{name: "unknown field", handler: api.CreateContact, req: withBody(req, `{"email":"a@example.com","admin":true}`), wantStatus: 400, wantCode: "unknown_field", wantField: "admin"},
		{name: "wrong type", handler: api.CreateContact, req: withBody(req, `{"email":42}`), wantStatus: 400, wantCode: "wrong_type", wantField: "email"},
		{name: "wrong content type", handler: api.CreateContact, req: withHeader(req, "content-type", "text/plain"), wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "1 MB body", handler: api.CreateContact, req: withBody(req, `{"name":"`+strings.Repeat("a", 1<<20)+`"}`), wantStatus: 413, wantCode: "body_too_large"},
		{name: "300-character name", handler: api.CreateContact, req: withBody(req, `{"email":"a@example.com","name":"`+strings.Repeat("é", 300)+`"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "name"},
		{name: "invalid email", handler: api.CreateContact, req: withBody(req, `{"email":"not-an-email"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "email"},
		{name: "missing email", handler: api.CreateContact, req: withBody(req, `{"name":"No Email"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "email"},
		{name: "future addedAt", handler: api.CreateContact, req: withBody(req, `{"email":"a@example.com","addedAt":"2099-01-01T00:00:00Z"}`), wantStatus: 422, wantCode: "validation_failed", wantField: "addedAt"},
		{name: "bad tag", handler: api.CreateContact, req: withBody(req, `{"email":"a@example.com","tags":["<script>"]}`), wantStatus: 422, wantCode: "validation_failed", wantField: "tags"},
		{name: "service role may not", handler: api.CreateContact, req: withRole(req, "service"), wantStatus: 403, wantCode: "forbidden"},
		{name: "unknown role", handler: api.CreateContact, req: withRole(req, "superuser"), wantStatus: 401, wantCode: "unauthenticated"},
		{name: "store outage is a 500 that leaks nothing", handler: api.CreateContact, req: req,
			store: fakeStore{createContact: func(contacts.Contact, contacts.LifecycleEntry) error {
				return apperr.Wrap(os.ErrDeadlineExceeded, "dynamodb is down")
			}},
			wantStatus: 500, wantCode: "internal",
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "deadline") {
					t.Errorf("internal detail leaked: %s", resp.Body)
				}
			}},
	})
}

func TestNoClaimsIsUnauthorized(t *testing.T) {
	req := fixture(t, "get-contact")
	req.RequestContext.Authorizer = nil
	run(t, []testCase{{name: "no authorizer", handler: api.GetContact, req: req, wantStatus: 401, wantCode: "unauthenticated"}})
}

func TestGetContact(t *testing.T) {
	req := fixture(t, "get-contact")
	run(t, []testCase{
		{name: "profile with ETag and lifespan", handler: api.GetContact, req: req,
			store: fakeStore{getProfile: func(site, id string, limit int, _ time.Time) (contacts.Profile, error) {
				if site != "demo" || id != contactID || limit != 20 {
					return contacts.Profile{}, apperr.ErrContactNotFound
				}
				return contacts.Profile{Contact: stored(id, "ada@example.com", 4), Notes: []contacts.Note{}, Lifecycle: []contacts.LifecycleEntry{}}, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				var p map[string]any
				_ = json.Unmarshal([]byte(resp.Body), &p)
				for _, f := range []string{"id", "email", "name", "kind", "addedAt", "startDate", "lifespanDays", "subscription", "tags", "notes", "lifecycle", "hidden"} {
					if _, ok := p[f]; !ok {
						t.Errorf("profile lacks %q: %s", f, resp.Body)
					}
				}
				if p["lifespanDays"] != float64(3) || resp.Headers["ETag"] != `"4"` {
					t.Errorf("lifespanDays %v, ETag %q", p["lifespanDays"], resp.Headers["ETag"])
				}
			}},
		{name: "another site's or missing contact", handler: api.GetContact, req: req,
			store: fakeStore{getProfile: func(string, string, int, time.Time) (contacts.Profile, error) {
				return contacts.Profile{}, apperr.ErrContactNotFound
			}},
			wantStatus: 404, wantCode: "contact_not_found"},
		{name: "id that is no id never reaches the store", handler: api.GetContact,
			req: func() events.APIGatewayV2HTTPRequest {
				r := fixture(t, "get-contact")
				r.PathParameters["id"] = "../../etc"
				return r
			}(),
			wantStatus: 404, wantCode: "contact_not_found"},
		{name: "service role may not read", handler: api.GetContact, req: withRole(req, "service"), wantStatus: 403, wantCode: "forbidden"},
	})
}

func TestUpdateContact(t *testing.T) {
	req := fixture(t, "update-contact")
	current := func(string, string) (contacts.Contact, error) { return stored(contactID, "ada@example.com", 1), nil }
	run(t, []testCase{
		{name: "edited", handler: api.UpdateContact, req: withBody(req, `{"name":"Ada King","phone":"+44 1"}`),
			store: fakeStore{getContact: current, updateContact: func(old, c contacts.Contact) error {
				if old.Version != 1 || c.Version != 2 || c.Name != "Ada King" {
					return apperr.Wrap(nil, "unexpected update")
				}
				return nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if resp.Headers["ETag"] != `"2"` {
					t.Errorf("ETag %q", resp.Headers["ETag"])
				}
			}},
		{name: "stale If-Match", handler: api.UpdateContact, req: withHeader(req, "if-match", `"7"`), store: fakeStore{getContact: current},
			wantStatus: 412, wantCode: "version_mismatch"},
		{name: "lost race", handler: api.UpdateContact, req: req,
			store:      fakeStore{getContact: current, updateContact: func(_, _ contacts.Contact) error { return apperr.ErrVersionMismatch }},
			wantStatus: 412, wantCode: "version_mismatch"},
		{name: "malformed If-Match", handler: api.UpdateContact, req: withHeader(req, "if-match", "yesterday"), wantStatus: 400, wantCode: "invalid_if_match"},
		{name: "invalid email", handler: api.UpdateContact, req: withBody(req, `{"email":"nope"}`), store: fakeStore{getContact: current},
			wantStatus: 422, wantCode: "validation_failed", wantField: "email"},
		{name: "email taken", handler: api.UpdateContact, req: withBody(req, `{"email":"b@example.com"}`),
			store:      fakeStore{getContact: current, updateContact: func(_, _ contacts.Contact) error { return apperr.ErrEmailTaken }},
			wantStatus: 409, wantCode: "email_taken"},
	})
}

func TestListContactsParameters(t *testing.T) {
	req := fixture(t, "list-contacts")
	q := func(params map[string]string) events.APIGatewayV2HTTPRequest {
		r := fixture(t, "list-contacts")
		r.QueryStringParameters = params
		return r
	}
	run(t, []testCase{
		{name: "page", handler: api.ListContacts, req: q(map[string]string{"limit": "2", "tag": "VIP", "hidden": "true", "q": "Ada"}),
			store: fakeStore{listContacts: func(site string, lq contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
				if site != "demo" || lq.Limit != 2 || lq.Tag != "vip" || !lq.IncludeHidden || lq.Search != "ada" {
					return contacts.Page[contacts.Contact]{}, apperr.Wrap(nil, "unexpected query")
				}
				return contacts.Page[contacts.Contact]{Items: []contacts.Contact{stored(contactID, "ada@example.com", 1)}}, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"next":null`) || !strings.Contains(resp.Body, `"items":[{`) {
					t.Errorf("body %s", resp.Body)
				}
			}},
		{name: "limit out of range", handler: api.ListContacts, req: q(map[string]string{"limit": "1000"}), wantStatus: 422, wantCode: "validation_failed", wantField: "limit"},
		{name: "hidden not a boolean", handler: api.ListContacts, req: q(map[string]string{"hidden": "maybe"}), wantStatus: 422, wantCode: "validation_failed", wantField: "hidden"},
		{name: "foreign cursor", handler: api.ListContacts, req: req,
			store: fakeStore{listContacts: func(string, contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
				return contacts.Page[contacts.Contact]{}, apperr.ErrInvalidCursor
			}},
			wantStatus: 400, wantCode: "invalid_cursor"},
	})
}

func TestNotesTagsAndHidden(t *testing.T) {
	noteReq := fixture(t, "add-note")
	run(t, []testCase{
		{name: "note author from token", handler: api.AddNote, req: noteReq,
			store: fakeStore{addNote: func(site, id string, n contacts.Note) error {
				if n.AuthorEmail != "owner@demo.example.com" || n.AuthorRole != "owner" {
					return apperr.Wrap(nil, "author not from token")
				}
				return nil
			}},
			wantStatus: 201},
		{name: "empty note", handler: api.AddNote, req: withBody(noteReq, `{"body":"   "}`), wantStatus: 422, wantCode: "validation_failed", wantField: "body"},
		{name: "note on a missing contact", handler: api.AddNote, req: noteReq,
			store:      fakeStore{addNote: func(string, string, contacts.Note) error { return apperr.ErrContactNotFound }},
			wantStatus: 404, wantCode: "contact_not_found"},
		{name: "support may not delete notes", handler: api.DeleteNote, req: withRole(fixture(t, "delete-note"), "support"), wantStatus: 403, wantCode: "forbidden"},
		{name: "tag with invalid characters", handler: api.AddTag,
			req: func() events.APIGatewayV2HTTPRequest {
				r := fixture(t, "add-tag")
				r.PathParameters["tag"] = "a%2Fb"
				return r
			}(),
			wantStatus: 422, wantCode: "validation_failed", wantField: "tag"},
		{name: "tag", handler: api.AddTag, req: fixture(t, "add-tag"),
			store: fakeStore{addTag: func(site, id, tag string) (contacts.Contact, error) {
				c := stored(id, "ada@example.com", 2)
				c.Tags = []string{tag}
				return c, nil
			}},
			wantStatus: 200},
		{name: "hide", handler: api.HideContact, req: fixture(t, "hide-contact"),
			store: fakeStore{setHidden: func(site, id string, hidden bool) (contacts.Contact, error) {
				c := stored(id, "ada@example.com", 2)
				c.Hidden = hidden
				return c, nil
			}},
			wantStatus: 200,
			check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
				if !strings.Contains(resp.Body, `"hidden":true`) {
					t.Errorf("body %s", resp.Body)
				}
			}},
		{name: "assistant may not delete contacts", handler: api.DeleteContact, req: withRole(fixture(t, "delete-contact"), "assistant"), wantStatus: 403, wantCode: "forbidden"},
	})
}

func TestPanicBecomesInternalError(t *testing.T) {
	store := fakeStore{getProfile: func(string, string, int, time.Time) (contacts.Profile, error) { panic("boom") }}
	svc := contacts.NewService(&store, time.Hour)
	resp, err := api.GetContact(svc).Handle(context.Background(), fixture(t, "get-contact"))
	if err != nil || resp.StatusCode != 500 || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("got %d %v %v", resp.StatusCode, resp.Headers, err)
	}
}
