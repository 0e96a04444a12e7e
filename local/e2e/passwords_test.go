package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

type outboxEmail struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	Link    string   `json:"link"`
}

// resetLink reads the newest reset link sent to email from the local outbox.
func resetLink(t *testing.T, email string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := (user{t: t}).do("GET", "/_local/outbox", "")
		var emails []outboxEmail
		if r.status != 200 || json.Unmarshal(r.body, &emails) != nil {
			t.Fatalf("outbox: %d %s", r.status, r.body)
		}
		for i := len(emails) - 1; i >= 0; i-- {
			e := emails[i]
			if len(e.To) == 1 && e.To[0] == email && e.Subject == "Reset your password" {
				return e.Link
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no reset email for %s in the outbox", email)
	return ""
}

func TestPasswordResetThroughTheOutboxThenSignIn(t *testing.T) {
	s := site(t)
	owner, checkout := as(t, s, "owner"), as(t, s, "service")
	email := "member-" + s + "@example.com"
	var bought struct{ ContactID string }
	checkout.expect(checkout.do("POST", "/purchases", purchaseJSON(email, "o-"+s, "course", 4900, "USD")), 201).json(&bought)

	if r := owner.do("POST", "/contacts/"+bought.ContactID+"/password-reset", ""); r.status != 202 {
		t.Fatalf("send reset: %d %s", r.status, r.body)
	}
	link := resetLink(t, email)
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || !strings.HasPrefix(u.Host, s+".") || u.Query().Get("token") == "" {
		t.Fatalf("link %q: want the site's https URL with a token", link)
	}
	tok := u.Query().Get("token")
	public := user{t: t}
	body := `{"token":"` + tok + `","password":"a brand new passphrase"}`
	if r := public.do("POST", "/sites/"+s+"/password-reset", body); r.status != 204 {
		t.Fatalf("complete reset: %d %s", r.status, r.body)
	}
	if r := public.do("POST", "/sites/"+s+"/password-reset", body); r.status != 400 || r.code() != "invalid_token" {
		t.Fatalf("reused token: %d %s", r.status, r.body)
	}
	before := time.Now().Add(-time.Minute)
	signIn := public.do("POST", "/sites/"+s+"/sign-in", `{"email":"`+strings.ToUpper(email)+`","password":"a brand new passphrase"}`)
	if signIn.status != 200 {
		t.Fatalf("sign-in: %d %s", signIn.status, signIn.body)
	}
	p, raw := owner.profile(bought.ContactID)
	if p.SignInCount != 1 || p.LastActivityAt == nil {
		t.Fatalf("profile after sign-in: count %d last %v", p.SignInCount, p.LastActivityAt)
	}
	if last, _ := time.Parse(time.RFC3339Nano, *p.LastActivityAt); last.Before(before) {
		t.Errorf("last activity %v is not fresh", last)
	}
	for k := range raw {
		if strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "hash") {
			t.Errorf("the profile has a field %q", k)
		}
	}
	for _, r := range []reply{signIn, owner.do("GET", "/contacts/"+bought.ContactID, ""), owner.do("GET", "/contacts/"+bought.ContactID+"/lifecycle", "")} {
		if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), tok) {
			t.Errorf("a response carries a hash or the token: %.200s", r.body)
		}
	}
}

func TestPublicRoutesAnswerKnownAndUnknownAlike(t *testing.T) {
	s := site(t)
	checkout := as(t, s, "service")
	email := "known-" + s + "@example.com"
	checkout.expect(checkout.do("POST", "/purchases", purchaseJSON(email, "k-"+s, "course", 100, "USD")), 201)
	public := user{t: t}
	known := public.do("POST", "/sites/"+s+"/sign-in", `{"email":"`+email+`","password":"not the password"}`)
	unknown := public.do("POST", "/sites/"+s+"/sign-in", `{"email":"nobody-`+s+`@example.com","password":"not the password"}`)
	if known.status != 401 || known.status != unknown.status || string(known.body) != string(unknown.body) ||
		known.header.Get("Content-Type") != unknown.header.Get("Content-Type") {
		t.Fatalf("known: %d %s\nunknown: %d %s", known.status, known.body, unknown.status, unknown.body)
	}
	badToken := public.do("POST", "/sites/"+s+"/password-reset", `{"token":"`+strings.Repeat("A", 43)+`","password":"a brand new passphrase"}`)
	if badToken.status != 400 || badToken.code() != "invalid_token" {
		t.Fatalf("unknown token: %d %s", badToken.status, badToken.body)
	}
}
