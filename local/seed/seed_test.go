package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creator-platform/contacts/shared/contacts"
)

// fakeAPI answers POST /contacts and POST /contacts/{id}/notes the way the
// real functions do, using the domain's own email, text and tag rules:
// 201 with the contact, 409 email_taken for an address already on the list
// in any case, 422 validation_failed with fields. failCreates makes the
// first n create requests fail with 503 before doing anything.
type fakeAPI struct {
	t     *testing.T
	token string

	mu          sync.Mutex
	byKey       map[string]string // email key -> id
	contacts    map[string]newContact
	notes       map[string][]string
	creates     int
	failCreates int
	rateLimit   int // the next n creates answer 429 with Retry-After: 0
}

func newFakeAPI(t *testing.T, token string) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{t: t, token: token, byKey: map[string]string{}, contacts: map[string]newContact{}, notes: map[string][]string{}}
	srv := httptest.NewServer(f) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return f, srv
}

func problem(w http.ResponseWriter, status int, code string, fields ...FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code, "title": http.StatusText(status), "fields": fields})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		problem(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		problem(w, http.StatusBadRequest, "unexpected_request")
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "contacts":
		var in contacts.NewContact // the real input type: unknown fields are refused
		if err := dec.Decode(&in); err != nil {
			problem(w, http.StatusBadRequest, "malformed_json")
			return
		}
		f.create(w, in)
	case len(parts) == 3 && parts[0] == "contacts" && parts[2] == "notes":
		var in struct {
			Body string `json:"body"`
		}
		if err := dec.Decode(&in); err != nil {
			problem(w, http.StatusBadRequest, "malformed_json")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.contacts[parts[1]]; !ok {
			problem(w, http.StatusNotFound, "contact_not_found")
			return
		}
		f.notes[parts[1]] = append(f.notes[parts[1]], strings.TrimSpace(in.Body))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"01NOTE"}`))
	default:
		problem(w, http.StatusNotFound, "not_found")
	}
}

func (f *fakeAPI) create(w http.ResponseWriter, in contacts.NewContact) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	if f.failCreates > 0 {
		f.failCreates--
		problem(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if f.rateLimit > 0 {
		f.rateLimit--
		w.Header().Set("Retry-After", "0")
		problem(w, http.StatusTooManyRequests, "rate_limited")
		return
	}
	var fields []FieldError
	display, key := contacts.NormalizeEmail(in.Email)
	switch {
	case display == "":
		fields = append(fields, FieldError{"email", "required", "email is required"})
	case !contacts.ValidEmail(display):
		fields = append(fields, FieldError{"email", "invalid_email", "email is not a valid address"})
	}
	if utf8.RuneCountInString(contacts.CleanText(in.Name)) > contacts.MaxNameLength {
		fields = append(fields, FieldError{"name", "too_long", "name must be at most 200 characters"})
	}
	for _, tag := range in.Tags {
		if !contacts.ValidTag(contacts.NormalizeTag(tag)) {
			fields = append(fields, FieldError{"tags", "invalid_tag", "bad tag"})
			break
		}
	}
	if in.Source != "import" {
		fields = append(fields, FieldError{"source", "invalid", "want import in this test"})
	}
	if len(fields) > 0 {
		problem(w, http.StatusUnprocessableEntity, "validation_failed", fields...)
		return
	}
	if _, taken := f.byKey[key]; taken {
		problem(w, http.StatusConflict, "email_taken")
		return
	}
	id := fmt.Sprintf("01CONTACT%05d", len(f.byKey)+1)
	f.byKey[key] = id
	f.contacts[id] = newContact{Email: display, Name: in.Name, Tags: in.Tags, Source: in.Source, AddedAt: in.AddedAt,
		Subscribed: in.Subscribed != nil && *in.Subscribed}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "email": display, "version": 1})
}

func testClient(srv *httptest.Server, token string) *Client {
	return &Client{BaseURL: srv.URL, Token: token, HTTP: srv.Client(), Backoff: time.Millisecond}
}

const flowCSV = "Email Address,First Name,Last Name,OPTIN_TIME,CONFIRM_TIME,NOTES,TAGS\n" +
	"Ada.Lovelace@Example.com,Ada,Lovelace,2025-03-14 09:12:31,,first,\"\"\"vip\"\"\"\n" + // line 2
	"not-an-email,X,Y,,,,\n" + // line 3
	",No,Email,,,,\n" + // line 4
	"ok@example.com,\"Mae, Jr\",O'Brien,,2025-01-01 00:00:00,,\"\"\"buyers\"\",\"\"lead\"\"\"\n" + // line 5
	"long@example.com,%s,B,,,,\n" + // line 6
	"ada.lovelace@example.com,Ada,Lovelace,2025-03-15 09:12:31,,second,\"\"\"buyers\"\"\"\n" + // line 7
	"  grace+news@example.org ,Grace,Hopper,,,,\n" + // line 8
	"GRACE+NEWS@example.org,Grace,Again,,,,\n" // line 9

func flowRows(t *testing.T) []Row {
	rows, err := ReadCSV(strings.NewReader(fmt.Sprintf(flowCSV, strings.Repeat("A", 300))))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSeedFlow(t *testing.T) {
	fake, srv := newFakeAPI(t, "tok")
	fake.failCreates = 2 // the first two creates hit a 503 and are retried
	fake.rateLimit = 1
	c := testClient(srv, "tok")
	rows := flowRows(t)

	results := c.Seed(context.Background(), rows, 4)
	var out bytes.Buffer
	s := WriteReport(&out, results, 1500*time.Millisecond)
	t.Log("\n" + out.String())

	if s.Rows != 8 || s.Created != 3 || s.Duplicates != 2 || s.Rejected != 3 || s.Errors != 0 || s.NotesAdded != 1 || s.NotesFailed != 0 || s.Failed() {
		t.Errorf("summary = %+v", s)
	}
	wantReasons := map[string]int{"email: invalid_email": 1, "email: required": 1, "name: too_long": 1}
	if fmt.Sprint(s.RejectedBy) != fmt.Sprint(wantReasons) {
		t.Errorf("rejected by = %v, want %v", s.RejectedBy, wantReasons)
	}
	want := []struct {
		line   int
		status Status
		reason string
	}{
		{2, Created, ""},
		{3, Rejected, "email: invalid_email"},
		{4, Rejected, "email: required"},
		{5, Created, ""},
		{6, Rejected, "name: too_long"},
		{7, Duplicate, "already on the list (email_taken)"},
		{8, Created, ""},
		{9, Duplicate, "already on the list (email_taken)"},
	}
	for i, w := range want {
		r := results[i]
		if r.Row.Line != w.line || r.Status != w.status || r.Reason() != w.reason {
			t.Errorf("result %d = line %d %s %q, want line %d %s %q", i, r.Row.Line, r.Status, r.Reason(), w.line, w.status, w.reason)
		}
	}
	// One contact per address, created by the first row of the pair with
	// that row's tags, and the note of the created row only.
	ada := fake.contacts[results[0].ID]
	if ada.Email != "Ada.Lovelace@Example.com" || fmt.Sprint(ada.Tags) != "[vip]" || !ada.Subscribed ||
		!ada.AddedAt.Equal(time.Date(2025, 3, 14, 9, 12, 31, 0, time.UTC)) || ada.Source != "import" {
		t.Errorf("Ada stored as %+v", ada)
	}
	if got := fake.notes[results[0].ID]; fmt.Sprint(got) != "[first]" {
		t.Errorf("Ada's notes = %q", got)
	}
	if len(fake.byKey) != 3 {
		t.Errorf("fake holds %d contacts, want 3", len(fake.byKey))
	}
	if results[5].ID != "" {
		t.Errorf("duplicate row got an id %q", results[5].ID)
	}
	if g := fake.contacts[results[6].ID]; g.Email != "grace+news@example.org" {
		t.Errorf("trimmed plus address stored as %q", g.Email)
	}
	if m := fake.contacts[results[3].ID]; m.Name != "Mae, Jr O'Brien" || fmt.Sprint(m.Tags) != "[buyers lead]" || !m.Subscribed || !m.AddedAt.IsZero() {
		t.Errorf("Mae stored as %+v", m)
	}
	for _, line := range []string{
		`line 3: rejected  "not-an-email": email: invalid_email`,
		`line 4: rejected  "": email: required`,
		`line 7: duplicate "ada.lovelace@example.com": already on the list (email_taken)`,
		`line 9: duplicate "GRACE+NEWS@example.org": already on the list (email_taken)`,
		"rows read:   8", "created:     3", "duplicates:  2", "rejected:    3", "errors:      0", "notes added: 1",
		"(5.3 rows/s)",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("report lacks %q", line)
		}
	}
	if strings.Contains(out.String(), "line 2:") {
		t.Errorf("report lists a created row")
	}

	// Seeding again is harmless: every row that was created is a duplicate now.
	again := Summarize(c.Seed(context.Background(), rows, 4))
	if again.Created != 0 || again.Duplicates != 5 || again.Rejected != 3 || again.Errors != 0 || again.NotesAdded != 0 {
		t.Errorf("second run = %+v", again)
	}
	if len(fake.byKey) != 3 || len(fake.notes[results[0].ID]) != 1 {
		t.Errorf("second run changed the fake: %d contacts, Ada notes %q", len(fake.byKey), fake.notes[results[0].ID])
	}
}

func TestSeedRealExport(t *testing.T) {
	rows := realExport(t)
	fake, srv := newFakeAPI(t, "tok")
	c := testClient(srv, "tok")
	results := c.Seed(context.Background(), rows, 8)
	s := Summarize(results)
	if s.Errors != 0 || s.Created+s.Duplicates+s.Rejected != len(rows) {
		t.Fatalf("summary = %+v", s)
	}
	// Only the Ada pair shares an address; three rows have bad data.
	if s.Duplicates != 1 || s.RejectedBy["email: invalid_email"] != 1 || s.RejectedBy["email: required"] != 1 || s.RejectedBy["name: too_long"] != 1 {
		t.Errorf("summary = %+v", s)
	}
	for _, r := range results {
		if r.Row.Email == "ada.lovelace@example.com" && (r.Status != Duplicate || r.Row.Line != 284) {
			t.Errorf("lower-case Ada = %s on line %d", r.Status, r.Row.Line)
		}
		if r.Row.Note != "" && r.Status == Created && !r.NoteAdded {
			t.Errorf("line %d: note not added", r.Row.Line)
		}
	}
	if len(fake.byKey) != s.Created {
		t.Errorf("fake holds %d contacts, created %d", len(fake.byKey), s.Created)
	}
	again := Summarize(c.Seed(context.Background(), rows, 8))
	if again.Created != 0 || again.Duplicates != s.Created+s.Duplicates || again.Rejected != s.Rejected || again.NotesAdded != 0 {
		t.Errorf("second run = %+v", again)
	}
}

func TestSeedErrors(t *testing.T) {
	rows := flowRows(t)[:2]

	// A token the API refuses: errors with the status and code.
	_, srv := newFakeAPI(t, "right")
	results := testClient(srv, "wrong").Seed(context.Background(), rows, 2)
	var out bytes.Buffer
	s := WriteReport(&out, results, time.Second)
	if s.Errors != 2 || !s.Failed() || s.Unauthorized != 2 || results[0].Reason() != "HTTP 401 unauthorized" {
		t.Errorf("summary = %+v, reason %q", s, results[0].Reason())
	}
	if !strings.Contains(out.String(), "hint: the API refused the token") {
		t.Errorf("no token hint:\n%s", out.String())
	}

	// 5xx every time: retried MaxAttempts times, then an error.
	fake, srv := newFakeAPI(t, "tok")
	fake.failCreates = 1000
	c := testClient(srv, "tok")
	c.MaxAttempts = 3
	r := c.SeedRow(context.Background(), rows[0])
	if r.Status != Error || r.Attempts != 3 || r.HTTPStatus != 503 || fake.creates != 3 || r.Reason() != "HTTP 503 unavailable" {
		t.Errorf("result = %+v (%d creates)", r, fake.creates)
	}

	// Nothing listening: Ping says unreachable, rows are errors without a status.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dead := &Client{BaseURL: "http://" + addr, Token: "tok", MaxAttempts: 2, Backoff: time.Millisecond}
	if err := dead.Ping(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Ping = %v, want ErrUnreachable", err)
	}
	s = Summarize(dead.Seed(context.Background(), rows, 2))
	if s.Errors != 2 || s.Unreachable != 2 {
		t.Errorf("unreachable summary = %+v", s)
	}
}
