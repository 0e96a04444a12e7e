// Package e2e drives the whole stack as a user would: the real template, every
// function built as deployed and run through the Lambda Runtime API by the
// local runner, the JWT authorizer, and the emulator.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creator-platform/contacts/local/runner"
)

var (
	stack  *runner.Runner
	client = &http.Client{Timeout: 30 * time.Second}
)

func TestMain(m *testing.M) {
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Println("end-to-end tests need the emulator: run them with `make test` (AWS_ENDPOINT_URL is not set)")
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	var err error
	stack, err = runner.Start(ctx, runner.Config{
		Root:         "../..",
		Addr:         "127.0.0.1:0",
		EmulatorAddr: strings.TrimPrefix(os.Getenv("AWS_ENDPOINT_URL"), "http://"),
		KeyPath:      os.TempDir() + "/contacts-e2e-key.pem",
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Failed email events come back after a second, not three minutes,
		// so redrive to the dead-letter queue is seen within the test.
		QueueVisibilityTimeout: 1,
	})
	cancel()
	if err != nil {
		fmt.Println("start the local stack:", err)
		os.Exit(1)
	}
	code := m.Run()
	stack.Close()
	os.Exit(code)
}

// user is someone holding a token for one site and role.
type user struct {
	t     *testing.T
	token string
}

func as(t *testing.T, site, role string) user {
	t.Helper()
	tok, err := stack.Token(runner.TokenClaims{Subject: "u-" + role, Email: role + "@" + site + ".example", Site: site, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return user{t: t, token: tok}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(v any) {
	_ = json.Unmarshal(r.body, v)
}

func (r reply) code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

func (u user) do(method, path, body string, headers ...string) reply {
	u.t.Helper()
	req, err := http.NewRequest(method, stack.URL()+path, strings.NewReader(body))
	if err != nil {
		u.t.Fatal(err)
	}
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (u user) expect(r reply, status int) reply {
	u.t.Helper()
	if r.status != status {
		u.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func site(t *testing.T) string {
	return fmt.Sprintf("e2e%d", time.Now().UnixNano())
}

func TestContactLifecycleThroughTheRunner(t *testing.T) {
	s := site(t)
	owner := as(t, s, "owner")

	created := owner.expect(owner.do("POST", "/contacts", `{"email":" Ada.Lovelace@Example.com ","name":"Ada Lovelace","company":"Engines","tags":["vip"]}`), 201)
	var c struct {
		ID      string   `json:"id"`
		Email   string   `json:"email"`
		Tags    []string `json:"tags"`
		Version int      `json:"version"`
	}
	created.json(&c)
	if c.Email != "Ada.Lovelace@Example.com" || created.header.Get("Location") != "/contacts/"+c.ID {
		t.Fatalf("created %s (Location %q)", created.body, created.header.Get("Location"))
	}
	if r := owner.do("POST", "/contacts", `{"email":"ada.lovelace@example.com"}`); r.status != 409 || r.code() != "email_taken" {
		t.Fatalf("case-variant duplicate: %d %s", r.status, r.body)
	}

	prof := owner.expect(owner.do("GET", "/contacts/"+c.ID, ""), 200)
	etag := prof.header.Get("ETag")
	var p map[string]any
	prof.json(&p)
	for _, f := range []string{"id", "email", "name", "kind", "addedAt", "startDate", "lifespanDays", "subscription", "tags", "notes", "lifecycle", "hidden"} {
		if _, ok := p[f]; !ok {
			t.Errorf("profile lacks %q", f)
		}
	}
	if etag == "" || p["kind"] != "contact" {
		t.Fatalf("profile %s etag %q", prof.body, etag)
	}

	edited := owner.expect(owner.do("PATCH", "/contacts/"+c.ID, `{"name":"Ada King","email":"ada@example.com"}`, "If-Match", etag), 200)
	if edited.header.Get("ETag") == etag {
		t.Fatal("ETag did not move after an edit")
	}
	if r := owner.do("PATCH", "/contacts/"+c.ID, `{"name":"stale"}`, "If-Match", etag); r.status != 412 || r.code() != "version_mismatch" {
		t.Fatalf("stale If-Match: %d %s", r.status, r.body)
	}
	// The old address is free again after the email moved.
	owner.expect(owner.do("POST", "/contacts", `{"email":"ADA.LOVELACE@example.com"}`), 201)

	note := owner.expect(owner.do("POST", "/contacts/"+c.ID+"/notes", `{"body":"Met at the conference"}`), 201)
	var n struct{ ID, AuthorEmail string }
	note.json(&n)
	if n.AuthorEmail != "owner@"+s+".example" {
		t.Errorf("note author %q", n.AuthorEmail)
	}
	notes := owner.expect(owner.do("GET", "/contacts/"+c.ID+"/notes?limit=10", ""), 200)
	if !bytes.Contains(notes.body, []byte("Met at the conference")) {
		t.Errorf("notes %s", notes.body)
	}
	owner.expect(owner.do("PUT", "/contacts/"+c.ID+"/tags/webinar-2026", ""), 200)
	tags := owner.expect(owner.do("GET", "/tags", ""), 200)
	if !bytes.Contains(tags.body, []byte(`{"tag":"webinar-2026","count":1}`)) || !bytes.Contains(tags.body, []byte(`{"tag":"vip","count":1}`)) {
		t.Errorf("tags %s", tags.body)
	}
	byTag := owner.expect(owner.do("GET", "/contacts?tag=webinar-2026", ""), 200)
	if !bytes.Contains(byTag.body, []byte(c.ID)) {
		t.Errorf("tag filter %s", byTag.body)
	}
	search := owner.expect(owner.do("GET", "/contacts?q=ADA%20K", ""), 200)
	if !bytes.Contains(search.body, []byte(c.ID)) {
		t.Errorf("name search %s", search.body)
	}

	owner.expect(owner.do("PUT", "/contacts/"+c.ID+"/hidden", ""), 200)
	if list := owner.expect(owner.do("GET", "/contacts", ""), 200); bytes.Contains(list.body, []byte(c.ID)) {
		t.Error("hidden contact listed")
	}
	if list := owner.expect(owner.do("GET", "/contacts?hidden=true", ""), 200); !bytes.Contains(list.body, []byte(c.ID)) {
		t.Error("hidden contact missing with hidden=true")
	}
	owner.expect(owner.do("DELETE", "/contacts/"+c.ID+"/hidden", ""), 200)

	owner.expect(owner.do("DELETE", "/contacts/"+c.ID+"/notes/"+n.ID, ""), 204)
	owner.expect(owner.do("DELETE", "/contacts/"+c.ID, ""), 204)
	owner.expect(owner.do("GET", "/contacts/"+c.ID, ""), 404)
}

func TestAuthorizationAtTheEdge(t *testing.T) {
	a, b := site(t)+"a", site(t)+"b"
	ownerA := as(t, a, "owner")
	var c struct{ ID string }
	ownerA.expect(ownerA.do("POST", "/contacts", `{"email":"private@example.com"}`), 201).json(&c)

	ownerB := as(t, b, "owner")
	for _, r := range []reply{
		ownerB.do("GET", "/contacts/"+c.ID, ""),
		ownerB.do("PATCH", "/contacts/"+c.ID, `{"name":"x"}`),
		ownerB.do("DELETE", "/contacts/"+c.ID, ""),
		ownerB.do("POST", "/contacts/"+c.ID+"/notes", `{"body":"x"}`),
	} {
		if r.status != 404 {
			t.Errorf("site B on site A's contact: %d %s", r.status, r.body)
		}
	}
	if r := as(t, a, "assistant").do("DELETE", "/contacts/"+c.ID, ""); r.status != 403 || r.code() != "forbidden" {
		t.Errorf("assistant delete: %d %s", r.status, r.body)
	}
	if r := as(t, a, "service").do("GET", "/contacts", ""); r.status != 403 {
		t.Errorf("service list: %d %s", r.status, r.body)
	}
	if r := (user{t: t}).do("GET", "/contacts", ""); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
	forged := ownerA.token[:strings.LastIndexByte(ownerA.token, '.')+1] + "c2lnbmF0dXJl"
	if r := (user{t: t, token: forged}).do("GET", "/contacts", ""); r.status != 401 {
		t.Errorf("bad signature: %d", r.status)
	}
}

func TestBadInputGetsDocumented4xx(t *testing.T) {
	owner := as(t, site(t), "owner")
	cases := []struct {
		name, body, contentType string
		status                  int
		code                    string
	}{
		{"malformed JSON", `{"email":`, "application/json", 400, "malformed_json"},
		{"unknown field", `{"email":"a@example.com","role":"owner"}`, "application/json", 400, "unknown_field"},
		{"wrong content type", `email=a@example.com`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"1 MB body", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, "application/json", 413, "body_too_large"},
		{"300-character name", `{"email":"a@example.com","name":"` + strings.Repeat("n", 300) + `"}`, "application/json", 422, "validation_failed"},
		{"invalid email", `{"email":"not-an-email"}`, "application/json", 422, "validation_failed"},
	}
	for _, tc := range cases {
		r := owner.do("POST", "/contacts", tc.body, "Content-Type", tc.contentType)
		if r.status != tc.status || r.code() != tc.code || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s %q, want %d %s", tc.name, r.status, r.header.Get("Content-Type"), r.body, tc.status, tc.code)
		}
	}
}

func TestConcurrentEditsOneWinsOneGets412(t *testing.T) {
	owner := as(t, site(t), "owner")
	var c struct{ ID string }
	created := owner.expect(owner.do("POST", "/contacts", `{"email":"race@example.com","name":"Before"}`), 201)
	created.json(&c)
	etag := created.header.Get("ETag")
	names := []string{"Writer One", "Writer Two"}
	replies := make([]reply, 2)
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = owner.do("PATCH", "/contacts/"+c.ID, `{"name":"`+names[i]+`"}`, "If-Match", etag)
		}()
	}
	wg.Wait()
	winner := -1
	for i, r := range replies {
		switch r.status {
		case 200:
			if winner >= 0 {
				t.Fatal("both edits won")
			}
			winner = i
		case 412:
		default:
			t.Fatalf("edit %d: %d %s", i, r.status, r.body)
		}
	}
	if winner < 0 {
		t.Fatal("no edit won")
	}
	var p struct{ Name string }
	owner.expect(owner.do("GET", "/contacts/"+c.ID, ""), 200).json(&p)
	if p.Name != names[winner] {
		t.Fatalf("stored %q, winner wrote %q", p.Name, names[winner])
	}
}

func TestOpenAPIServed(t *testing.T) {
	r := (user{t: t}).do("GET", "/openapi.json", "")
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"/contacts/{id}"`)) {
		t.Fatalf("openapi: %d %.200s", r.status, r.body)
	}
}
