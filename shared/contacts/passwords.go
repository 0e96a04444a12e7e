package contacts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/password"
)

// Lifecycle entry types of the password side.
const (
	EventPasswordResetSent = "password_reset_sent"
	EventPasswordReset     = "password_reset"   // the member completed a reset
	EventPasswordChanged   = "password_changed" // an owner or admin set it
)

// ResetTokenTTL is how long a password reset link works.
const ResetTokenTTL = 30 * time.Minute

// Email is one transactional message to one person.
type Email struct {
	Site, ContactID string
	To              string
	Subject, Text   string
}

// Mailer sends transactional email; it returns the provider's message id,
// which is remembered so that the message's bounces find the contact.
type Mailer interface {
	Send(ctx context.Context, e Email) (messageID string, err error)
}

// PasswordStore is what the password operations need from storage.
//
// Errors: apperr.ErrContactNotFound, ErrNotCustomer, ErrInvalidToken.
type PasswordStore interface {
	GetContact(ctx context.Context, site, id string) (Contact, error)
	ContactIDByEmail(ctx context.Context, site, emailKey string) (string, bool, error)
	// SaveResetToken stores a reset token (only its hash) for a customer,
	// with the "reset sent" lifecycle entry.
	SaveResetToken(ctx context.Context, site, contactID, tokenHash string, expires time.Time, e LifecycleEntry) error
	// CompleteReset spends a valid, unexpired token: it stores the new hash
	// and revokes every open token of the person, in one transaction. It
	// returns the contact the token was for.
	CompleteReset(ctx context.Context, site, tokenHash string, now time.Time, check func(Contact) error, passwordHash string, e LifecycleEntry) (Contact, error)
	// SetPassword stores a customer's password hash and revokes open tokens.
	SetPassword(ctx context.Context, site, contactID, passwordHash string, e LifecycleEntry) error
	// PasswordHash returns the stored hash, "" when none.
	PasswordHash(ctx context.Context, site, contactID string) (string, error)
	// Hit counts one attempt against key in the window starting at start;
	// false when limit attempts were already counted.
	Hit(ctx context.Context, key string, start time.Time, window time.Duration, limit int) (bool, error)
	// ClearHits forgets key's attempts in the window.
	ClearHits(ctx context.Context, key string, start time.Time) error
	RememberSentMessage(ctx context.Context, site, contactID, messageID string, at time.Time) error
	SiteURL(ctx context.Context, site string) (string, error)
	RecordActivity(ctx context.Context, site, id string, signIn bool, at time.Time, e *LifecycleEntry) (Contact, error)
}

// Errors of the password side. Public routes answer every token problem,
// and every sign-in failure, the same way.
var (
	ErrInvalidToken       = apperr.New(apperr.Malformed, "invalid_token", "this reset link is invalid, used or expired; ask for a new one")
	ErrInvalidCredentials = apperr.New(apperr.Unauthorized, "invalid_credentials", "the email or password is wrong")
)

// RateLimitedError says when to try again.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string { return "rate limited" }

// Passwords runs password resets, password changes and member sign-in.
type Passwords struct {
	Store     PasswordStore
	Mailer    Mailer
	Now       func() time.Time
	Retention time.Duration // lifecycle TTL
	// SiteURLTemplate builds a site's URL when its settings name none:
	// "{site}" is replaced by the site id. Never a request header.
	SiteURLTemplate string
	// Sign-in failures allowed per site+email and per source address in
	// one window.
	PerEmailLimit, PerIPLimit int
	Window                    time.Duration
}

func (p *Passwords) entry(typ string, at time.Time, detail map[string]string) LifecycleEntry {
	return LifecycleEntry{ID: NewID(at), Type: typ, At: at.UTC(), Detail: detail, ExpiresAt: at.Add(p.Retention)}
}

// SendReset emails a customer a single-use link to choose a new password.
func (p *Passwords) SendReset(ctx context.Context, caller auth.Caller, contactID string) error {
	c, err := p.customer(ctx, caller, auth.SendPasswordReset, contactID)
	if err != nil {
		return err
	}
	base, err := p.siteURL(ctx, caller.Site)
	if err != nil {
		return err
	}
	raw := make([]byte, 32) // 256 bits
	if _, err := rand.Read(raw); err != nil {
		return apperr.Wrap(err, "make reset token")
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := p.Now().UTC()
	if err := p.Store.SaveResetToken(ctx, caller.Site, c.ID, TokenHash(token), now.Add(ResetTokenTTL),
		p.entry(EventPasswordResetSent, now, map[string]string{"by": caller.Email})); err != nil {
		return err
	}
	link := base + "/reset-password?token=" + token
	return p.send(ctx, c, now, "Reset your password",
		"Someone asked to reset the password of your account.\n\n"+
			"Choose a new password here (the link works once, for 30 minutes):\n"+link+"\n\n"+
			"If you did not ask for this, ignore this email: your password stays as it is.\n")
}

// ChangePassword sets a customer's password (owner or admin) and tells them.
func (p *Passwords) ChangePassword(ctx context.Context, caller auth.Caller, contactID, pw string) error {
	c, err := p.customer(ctx, caller, auth.ChangePasswords, contactID)
	if err != nil {
		return err
	}
	if problem := password.Problem(pw, c.Email); problem != "" {
		return passwordInvalid(problem)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return apperr.Wrap(err, "hash password")
	}
	now := p.Now().UTC()
	if err := p.Store.SetPassword(ctx, caller.Site, c.ID, hash, p.entry(EventPasswordChanged, now, map[string]string{"by": caller.Email})); err != nil {
		return err
	}
	return p.send(ctx, c, now, "Your password was changed", changedText)
}

const changedText = "The password of your account was just changed.\n\n" +
	"If this was not you, reset your password right away and tell the site's team.\n"

// CompleteReset spends a reset token on a new password (public route: the
// site comes from the path, the person from the token).
func (p *Passwords) CompleteReset(ctx context.Context, site, token, pw string) error {
	if !auth.ValidSite(site) {
		return ErrInvalidToken
	}
	if problem := password.Problem(pw, ""); problem != "" {
		return passwordInvalid(problem)
	}
	if len(token) < 20 || len(token) > 100 {
		return ErrInvalidToken
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return apperr.Wrap(err, "hash password")
	}
	now := p.Now().UTC()
	notEmail := func(c Contact) error {
		if problem := password.Problem(pw, c.Email); problem != "" {
			return passwordInvalid(problem)
		}
		return nil
	}
	c, err := p.Store.CompleteReset(ctx, site, TokenHash(token), now, notEmail, hash, p.entry(EventPasswordReset, now, nil))
	if err != nil {
		return err
	}
	return p.send(ctx, c, now, "Your password was changed", changedText)
}

// SignIn checks a member's email and password. An unknown email and a wrong
// password get the same error after the same work; failures are limited per
// site+email and per source address.
func (p *Passwords) SignIn(ctx context.Context, site, email, pw, sourceIP string) (Contact, error) {
	if !auth.ValidSite(site) {
		return Contact{}, ErrInvalidCredentials
	}
	now := p.Now().UTC()
	start := now.Truncate(p.Window)
	_, key := NormalizeEmail(email)
	emailKey := "S#" + site + "#RL#EMAIL#" + TokenHash(key)
	ipKey := "RL#IP#" + sourceIP // per address across sites
	for _, limit := range []struct {
		key string
		max int
	}{{ipKey, p.PerIPLimit}, {emailKey, p.PerEmailLimit}} {
		ok, err := p.Store.Hit(ctx, limit.key, start, p.Window, limit.max)
		if err != nil {
			return Contact{}, err
		}
		if !ok {
			return Contact{}, &RateLimitedError{RetryAfter: start.Add(p.Window).Sub(now).Round(time.Second) + time.Second}
		}
	}
	id, found, err := p.Store.ContactIDByEmail(ctx, site, key)
	if err != nil {
		return Contact{}, err
	}
	stored := ""
	if found {
		if stored, err = p.Store.PasswordHash(ctx, site, id); err != nil {
			return Contact{}, err
		}
	} else if _, err := p.Store.PasswordHash(ctx, site, NewID(now)); err != nil { // the same reads either way
		return Contact{}, err
	}
	if stored == "" {
		password.VerifyNone(pw)
		return Contact{}, ErrInvalidCredentials
	}
	if ok, err := password.Verify(stored, pw); err != nil || !ok {
		return Contact{}, ErrInvalidCredentials
	}
	if err := p.Store.ClearHits(ctx, emailKey, start); err != nil {
		return Contact{}, err
	}
	return p.Store.RecordActivity(ctx, site, id, true, now, &LifecycleEntry{ID: NewID(now), Type: EventSignedIn, At: now, ExpiresAt: now.Add(p.Retention)})
}

// customer reads the customer an account user acts on, if their role may
// do action: only customers have passwords.
func (p *Passwords) customer(ctx context.Context, caller auth.Caller, action auth.Action, contactID string) (Contact, error) {
	if err := caller.Authorize(action); err != nil {
		return Contact{}, err
	}
	if !ValidID(contactID) {
		return Contact{}, apperr.ErrContactNotFound
	}
	c, err := p.Store.GetContact(ctx, caller.Site, contactID)
	if err != nil {
		return Contact{}, err
	}
	if c.Kind != KindCustomer {
		return Contact{}, ErrNotCustomer
	}
	return c, nil
}

// send emails a person and remembers the message, so its bounce finds them.
func (p *Passwords) send(ctx context.Context, c Contact, now time.Time, subject, text string) error {
	id, err := p.Mailer.Send(ctx, Email{Site: c.Site, ContactID: c.ID, To: c.Email, Subject: subject, Text: text})
	if err != nil {
		return apperr.Wrap(err, "send email")
	}
	return p.Store.RememberSentMessage(ctx, c.Site, c.ID, id, now)
}

// siteURL is the site's own URL from its settings, else from the template.
func (p *Passwords) siteURL(ctx context.Context, site string) (string, error) {
	u, err := p.Store.SiteURL(ctx, site)
	if err != nil {
		return "", err
	}
	if u == "" {
		u = strings.ReplaceAll(p.SiteURLTemplate, "{site}", site)
	}
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "https" && !(parsed.Scheme == "http" && strings.HasPrefix(parsed.Host, "127.0.0.1"))) || parsed.Host == "" {
		return "", apperr.Wrap(errors.New("site URL "+strconv.Quote(u)+" is not an https URL"), "site URL")
	}
	return strings.TrimRight(u, "/"), nil
}

func passwordInvalid(problem string) error {
	msg := map[string]string{
		"too_short":     "a password has at least 8 characters",
		"too_long":      "a password has at most 128 characters",
		"same_as_email": "a password cannot be the email address",
		"invalid":       "a password must be valid text, without control characters",
		"blank":         "a password cannot be only spaces",
	}[problem]
	return apperr.Validation(apperr.FieldError{Field: "password", Code: problem, Message: msg})
}

// TokenHash is how tokens (and rate-limit keys) are stored: SHA-256, hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewPasswords returns the password operations with the real clock and the
// default limits: 5 sign-in failures per site+email and 30 per source
// address in 15 minutes.
func NewPasswords(store PasswordStore, mailer Mailer, retention time.Duration, siteURLTemplate string) *Passwords {
	return &Passwords{
		Store: store, Mailer: mailer, Now: time.Now, Retention: retention, SiteURLTemplate: siteURLTemplate,
		PerEmailLimit: 5, PerIPLimit: 30, Window: 15 * time.Minute,
	}
}
