package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/api"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
)

// outbox is a Mailer that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []contacts.Email
}

func (o *outbox) Send(_ context.Context, e contacts.Email) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, e)
	return fmt.Sprintf("msg-%d-%d", time.Now().UnixNano(), len(o.sent)), nil
}

func (o *outbox) last(t *testing.T) contacts.Email {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return o.sent[len(o.sent)-1]
}

// token reads the reset token from the link in an email.
func token(t *testing.T, e contacts.Email) string {
	t.Helper()
	i := strings.Index(e.Text, "https://")
	if i < 0 {
		t.Fatalf("no link in %q", e.Text)
	}
	link := strings.Fields(e.Text[i:])[0]
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newPasswords(mail *outbox, clk *clock) *contacts.Passwords {
	p := contacts.NewPasswords(newStore(), mail, 365*24*time.Hour, "https://{site}.creator.example")
	p.Now = clk.Now
	return p
}

func customer(t *testing.T, site, email string) string {
	t.Helper()
	return buy(t, newService(), site, email, "pw-"+email, 100, "USD").ContactID
}

func TestPasswordResetEndToEndInTheStore(t *testing.T) {
	ctx := context.Background()
	site := newSite(t)
	mail, clk := &outbox{}, &clock{now: time.Now()}
	p := newPasswords(mail, clk)
	id := customer(t, site, "member@example.com")
	owner := as(site, auth.Owner)

	if err := p.SendReset(ctx, owner, id); err != nil {
		t.Fatal(err)
	}
	first := token(t, mail.last(t))
	if !strings.HasPrefix(mail.last(t).Text[strings.Index(mail.last(t).Text, "https://"):], "https://"+site+".creator.example/reset-password?token=") {
		t.Errorf("link not from the site's URL: %q", mail.last(t).Text)
	}
	if err := p.SendReset(ctx, owner, id); err != nil {
		t.Fatal(err)
	}
	second := token(t, mail.last(t))
	if len(first) < 43 || first == second {
		t.Fatalf("tokens %q %q: want two different 256-bit tokens", first, second)
	}
	if err := p.CompleteReset(ctx, site, second, "member@example.com"); err == nil {
		t.Fatal("the email itself was accepted as the password")
	}
	if err := p.CompleteReset(ctx, site, second, "a new passphrase"); err != nil {
		t.Fatal(err)
	}
	if got := mail.last(t); got.Subject != "Your password was changed" || got.To != "member@example.com" {
		t.Errorf("no change notice: %+v", got)
	}
	for name, tok := range map[string]string{"reused token": second, "the other open token": first, "unknown token": strings.Repeat("x", 43)} {
		if err := p.CompleteReset(ctx, site, tok, "another passphrase"); !errors.Is(err, contacts.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := p.SignIn(ctx, site, "MEMBER@example.com", "a new passphrase", "203.0.113.1")
	if err != nil {
		t.Fatal(err)
	}
	if c.SignInCount != 1 || c.LastActivityAt == nil {
		t.Fatalf("after sign-in: count %d last %v", c.SignInCount, c.LastActivityAt)
	}
	prof, _ := newService().Profile(ctx, owner, id)
	var kinds []string
	for _, e := range prof.Lifecycle {
		kinds = append(kinds, e.Type)
	}
	for _, want := range []string{contacts.EventPasswordResetSent, contacts.EventPasswordReset, contacts.EventSignedIn} {
		if !strings.Contains(strings.Join(kinds, ","), want) {
			t.Errorf("lifecycle %v lacks %s", kinds, want)
		}
	}
	raw, _ := json.Marshal(prof)
	if strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), contacts.TokenHash(second)) {
		t.Error("the profile shows a password or token hash")
	}
}

func TestResetTokenExpiresAfterThirtyMinutes(t *testing.T) {
	ctx := context.Background()
	site := newSite(t)
	mail, clk := &outbox{}, &clock{now: time.Now()}
	p := newPasswords(mail, clk)
	id := customer(t, site, "late@example.com")
	if err := p.SendReset(ctx, as(site, auth.Support), id); err != nil {
		t.Fatal(err)
	}
	tok := token(t, mail.last(t))
	clk.Add(31 * time.Minute)
	if err := p.CompleteReset(ctx, site, tok, "a new passphrase"); !errors.Is(err, contacts.ErrInvalidToken) {
		t.Fatalf("a 31-minute-old token: %v", err)
	}
	// Contacts (not customers) get no reset link.
	plain := create(t, newService(), site, contacts.NewContact{Email: "plain@example.com"})
	if err := p.SendReset(ctx, as(site, auth.Owner), plain.ID); !errors.Is(err, contacts.ErrNotCustomer) {
		t.Fatalf("reset for a contact: %v", err)
	}
}

func TestSignInAnswersUnknownAndWrongAlike(t *testing.T) {
	ctx := context.Background()
	site := newSite(t)
	mail, clk := &outbox{}, &clock{now: time.Now()}
	p := newPasswords(mail, clk)
	id := customer(t, site, "known@example.com")
	if err := p.ChangePassword(ctx, as(site, auth.Admin), id, "the right passphrase"); err != nil {
		t.Fatal(err)
	}
	h := api.SignIn(p)
	answer := func(email, pw, ip string) events.APIGatewayV2HTTPResponse {
		req := events.APIGatewayV2HTTPRequest{
			PathParameters: map[string]string{"site": site},
			Headers:        map[string]string{"content-type": "application/json"},
			Body:           fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw),
		}
		req.RequestContext.HTTP.SourceIP = ip
		resp, _ := h.Handle(ctx, req)
		return resp
	}
	known := answer("known@example.com", "a wrong passphrase", "198.51.100.1")
	unknown := answer("nobody@example.com", "a wrong passphrase", "198.51.100.2")
	if known.StatusCode != 401 || known.Body != unknown.Body || known.StatusCode != unknown.StatusCode || len(known.Headers) != len(unknown.Headers) {
		t.Fatalf("known: %d %s\nunknown: %d %s", known.StatusCode, known.Body, unknown.StatusCode, unknown.Body)
	}
	if ok := answer("known@example.com", "the right passphrase", "198.51.100.3"); ok.StatusCode != 200 {
		t.Fatalf("right password: %d %s", ok.StatusCode, ok.Body)
	}
}

func TestRateLimitHoldsUnderFiftyConcurrentWrongSignIns(t *testing.T) {
	ctx := context.Background()
	site := newSite(t)
	mail, clk := &outbox{}, &clock{now: time.Now()}
	p := newPasswords(mail, clk)
	id := customer(t, site, "target@example.com")
	if err := p.ChangePassword(ctx, as(site, auth.Owner), id, "the right passphrase"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.SignIn(ctx, site, "target@example.com", "wrong guess", fmt.Sprint("192.0.2.", i))
			var limited *contacts.RateLimitedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.As(err, &limited):
				counts["limited"]++
				if limited.RetryAfter <= 0 || limited.RetryAfter > p.Window+time.Second {
					t.Errorf("Retry-After %v", limited.RetryAfter)
				}
			case errors.Is(err, contacts.ErrInvalidCredentials):
				counts["wrong"]++
			default:
				counts[fmt.Sprint(err)]++
			}
		}()
	}
	wg.Wait()
	if counts["wrong"] != p.PerEmailLimit || counts["limited"] != 50-p.PerEmailLimit {
		t.Fatalf("answers %v: want exactly %d checked and the rest refused", counts, p.PerEmailLimit)
	}
	// Even the right password waits for the window to pass.
	if _, err := p.SignIn(ctx, site, "target@example.com", "the right passphrase", "192.0.2.200"); err == nil {
		t.Fatal("signed in while rate limited")
	}
	clk.Add(p.Window)
	if _, err := p.SignIn(ctx, site, "target@example.com", "the right passphrase", "192.0.2.200"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestNoLogLineCarriesAPasswordOrToken(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	ctx := context.Background()
	site := newSite(t)
	mail, clk := &outbox{}, &clock{now: time.Now()}
	p := newPasswords(mail, clk)
	id := customer(t, site, "quiet@example.com")
	caller := events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"id": id}}
	caller.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
		Claims: map[string]string{"site": site, "role": "owner", "email": "owner@example.com", "sub": "o"}}}
	if resp, _ := api.SendPasswordReset(p).Handle(ctx, caller); resp.StatusCode != 202 {
		t.Fatalf("send reset: %d %s", resp.StatusCode, resp.Body)
	}
	tok := token(t, mail.last(t))
	public := func(h api.PublicHandler, body string) events.APIGatewayV2HTTPResponse {
		resp, _ := h.Handle(ctx, events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"site": site},
			Headers: map[string]string{"content-type": "application/json"}, Body: body})
		return resp
	}
	if resp := public(api.CompletePasswordReset(p), `{"token":"`+tok+`","password":"secret passphrase 1"}`); resp.StatusCode != 204 {
		t.Fatalf("complete: %d %s", resp.StatusCode, resp.Body)
	}
	public(api.CompletePasswordReset(p), `{"token":"`+tok+`","password":"secret passphrase 2"}`)
	public(api.SignIn(p), `{"email":"quiet@example.com","password":"secret passphrase 3"}`)
	public(api.SignIn(p), `{"email":"quiet@example.com","password":"secret passphrase 1"}`)
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	for _, secret := range []string{"secret passphrase", tok, contacts.TokenHash(tok), "argon2id", "quiet@example.com"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a log line carries %q", secret)
		}
	}
}
