// Command ses-events plays SES for one contact of the running local stack
// (`make dev`): it publishes every SES fixture, rewritten to address that
// contact, to the email events SNS topic in the emulator, so that each one
// flows topic -> EmailEventsQueue (as an SNS envelope) -> the ingest
// function, and shows up in the contact's lifecycle and marketing status.
//
//	make ses-events SITE=demo EMAIL=ann@example.com [API=http://127.0.0.1:3000] [EMULATOR=127.0.0.1:4566]
//	go run ./local/cmd/ses-events -site demo -email ann@example.com
//
// The contact is found through the API (GET /contacts?q=<email>, with an
// owner token signed by the runner's key, as local/cmd/seed does). Each
// fixture of -dir is rewritten to address it: mail.destination and every
// recipient list (bouncedRecipients, complainedRecipients,
// delivery.recipients, delayedRecipients, commonHeaders.to) become EMAIL,
// and mail.tags get site=[SITE] and contact=[id] (identity notifications,
// which have no tags, get them too so that the ingest finds the site). The
// SNS envelope fixture is unwrapped to its Message (SNS wraps it again); the
// SubscriptionConfirmation is skipped.
//
// Repeated runs: by default every run is a new set of emails: mail.messageId
// (and feedbackId) get a per-run suffix and the timestamps are shifted so the
// newest fixture happened now. With -stable the fixtures' ids and times are
// kept, so a second run publishes duplicates: the ingest must change nothing
// (exactly-once effect).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/creator-platform/contacts/local/runner"
)

const hint = "is `make dev` running?"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ses-events:", err)
		os.Exit(1)
	}
}

func run() error {
	api := flag.String("api", "http://127.0.0.1:3000", "base URL of the contacts API")
	emulator := flag.String("emulator", "http://127.0.0.1:4566", "endpoint of the emulator the runner uses")
	site := flag.String("site", "demo", "the contact's site")
	email := flag.String("email", "", "the contact's email address (required)")
	dir := flag.String("dir", "../shared/data/ses", "folder of SES fixtures (*.json)")
	template := flag.String("template", "template.yaml", "SAM template: the topic's local ARN comes from it")
	topicID := flag.String("topic", "EmailEventsTopic", "logical id of the email events topic in the template")
	keyPath := flag.String("key", ".local/jwt/private.pem", "the runner's JWT signing key")
	stable := flag.Bool("stable", false, "keep the fixtures' message ids and timestamps (a rerun publishes duplicates)")
	wait := flag.Duration("wait", 5*time.Second, "then wait up to this long for the events in the contact's lifecycle (0: do not)")
	flag.Parse()
	if *email == "" {
		return errors.New("-email is required (the address of a contact of -site)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmpl, err := runner.LoadTemplate(*template, *emulator)
	if err != nil {
		return err
	}
	topicARN := ""
	for _, t := range tmpl.Topics {
		if t.LogicalID == *topicID {
			topicARN = t.ARN
		}
	}
	if topicARN == "" {
		return fmt.Errorf("no topic %s in %s", *topicID, *template)
	}

	api2 := &apiClient{base: strings.TrimSuffix(*api, "/"), http: &http.Client{Timeout: 15 * time.Second}}
	if api2.token, err = ownerToken(*keyPath, *site); err != nil {
		return err
	}
	contactID, err := api2.findContact(ctx, *email)
	if err != nil {
		return err
	}
	fmt.Printf("contact %s (%s) on site %q\n", contactID, *email, *site)

	fixtures, err := loadFixtures(*dir)
	if err != nil {
		return err
	}
	rw := rewriter{site: *site, email: *email, contactID: contactID}
	if !*stable {
		rw.suffix = randomSuffix()
		rw.shift = time.Since(latest(fixtures)).Truncate(time.Second)
	}

	client := sns.New(sns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(*emulator),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "ses-events"}, nil
		}),
	})
	published := 0
	for _, f := range fixtures {
		if f.skip != "" {
			fmt.Printf("  skip       %-42s %s\n", f.name, f.skip)
			continue
		}
		msg := rw.rewrite(f.doc)
		b, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		out, err := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(string(b))})
		if err != nil {
			return fmt.Errorf("publish %s to %s: %w (%s)", f.name, topicARN, err, hint)
		}
		published++
		fmt.Printf("  published  %-42s %-28s mail %s  sns %s\n", f.name, kind(msg), mailID(msg), aws.ToString(out.MessageId))
	}
	fmt.Printf("%d published to %s; they reach the ingest through EmailEventsQueue\n", published, topicARN)

	if *wait > 0 {
		return api2.showLifecycle(ctx, contactID, *wait)
	}
	return nil
}

// ownerToken signs an owner token for site with the runner's key, with the
// subject `make token` derives for owner@<site>.example.com.
func ownerToken(keyPath, site string) (string, error) {
	key, err := runner.LoadOrCreateKey(keyPath)
	if err != nil {
		return "", err
	}
	email := "owner@" + site + ".example.com"
	sum := sha256.Sum256([]byte(site + "\x00" + email))
	return runner.SignToken(key, runner.TokenClaims{
		Subject: "local-" + hex.EncodeToString(sum[:8]),
		Email:   email,
		Site:    site,
		Role:    "owner",
		TTL:     time.Hour,
	}, time.Now())
}

type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (c *apiClient) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the API at %s (%v); %s", c.base, err, hint)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, out)
}

// findContact returns the id of the site's contact whose email is email
// (case-insensitive), searching with q=<email>.
func (c *apiClient) findContact(ctx context.Context, email string) (string, error) {
	var page struct {
		Items []struct{ ID, Email string }
	}
	if err := c.get(ctx, "/contacts?hidden=true&q="+url.QueryEscape(email), &page); err != nil {
		return "", err
	}
	for _, it := range page.Items {
		if strings.EqualFold(it.Email, email) {
			return it.ID, nil
		}
	}
	return "", fmt.Errorf("no contact with email %s on this site (create it first: POST /contacts)", email)
}

// showLifecycle prints the contact's newest lifecycle entries once the email
// events have arrived (or when wait is over) and the marketing status.
func (c *apiClient) showLifecycle(ctx context.Context, id string, wait time.Duration) error {
	type entry struct {
		Type   string            `json:"type"`
		At     string            `json:"at"`
		Detail map[string]string `json:"detail"`
	}
	var page struct{ Items []entry }
	deadline := time.Now().Add(wait)
	seen, stable := -1, 0
	for {
		page.Items = nil // decode afresh: json would merge into the old entries' maps
		if err := c.get(ctx, "/contacts/"+url.PathEscape(id)+"/lifecycle?limit=20", &page); err != nil {
			return err
		}
		// Done when the count has stopped moving for a second.
		if len(page.Items) == seen {
			stable++
		} else {
			seen, stable = len(page.Items), 0
		}
		if stable >= 2 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Printf("lifecycle of %s (newest %d):\n", id, len(page.Items))
	for _, e := range page.Items {
		keys := make([]string, 0, len(e.Detail))
		for k := range e.Detail {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var d []string
		for _, k := range keys {
			d = append(d, k+"="+e.Detail[k])
		}
		fmt.Printf("  %-30s %-22s %s\n", e.At, e.Type, strings.Join(d, " "))
	}
	var contact struct {
		Subscription json.RawMessage `json:"subscription"`
	}
	if err := c.get(ctx, "/contacts/"+url.PathEscape(id), &contact); err == nil {
		fmt.Printf("subscription: %s\n", contact.Subscription)
	}
	return nil
}

type fixture struct {
	name string
	doc  map[string]any
	skip string // why it is not published
}

// loadFixtures reads every *.json of dir in name order, unwrapping SNS
// notifications to their message.
func loadFixtures(dir string) ([]fixture, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.json fixtures in %s", dir)
	}
	sort.Strings(paths)
	var out []fixture
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f := fixture{name: filepath.Base(p)}
		if err := json.Unmarshal(b, &f.doc); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		switch typ, _ := f.doc["Type"].(string); typ {
		case "":
		case "Notification":
			msg, _ := f.doc["Message"].(string)
			f.doc = nil
			if err := json.Unmarshal([]byte(msg), &f.doc); err != nil {
				return nil, fmt.Errorf("%s: Message: %w", p, err)
			}
		default:
			f.skip = "SNS " + typ + ", not an email event"
		}
		if f.skip == "" && f.doc["eventType"] == nil && f.doc["notificationType"] == nil {
			f.skip = "neither eventType nor notificationType"
		}
		out = append(out, f)
	}
	return out, nil
}

// timestampKeys are the fields holding an RFC 3339 time in SES messages.
func isTimestampKey(k string) bool {
	return k == "timestamp" || k == "arrivalDate" || strings.HasSuffix(k, "Timestamp")
}

// latest is the newest parseable timestamp in the fixtures.
func latest(fixtures []fixture) time.Time {
	var max time.Time
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && isTimestampKey(k) {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.After(max) {
						max = t
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	for _, f := range fixtures {
		if f.skip == "" {
			walk(f.doc)
		}
	}
	if max.IsZero() {
		return time.Now()
	}
	return max
}

type rewriter struct {
	site, email, contactID string
	suffix                 string        // appended to mail.messageId and feedbackIds; "" keeps them
	shift                  time.Duration // added to every parseable timestamp
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rewrite returns a copy of an SES message addressed to the contact.
func (rw rewriter) rewrite(doc map[string]any) map[string]any {
	var m map[string]any
	b, _ := json.Marshal(doc)
	_ = json.Unmarshal(b, &m)

	mail, _ := m["mail"].(map[string]any)
	if mail == nil {
		mail = map[string]any{}
		m["mail"] = mail
	}
	mail["destination"] = []any{rw.email}
	if ch, ok := mail["commonHeaders"].(map[string]any); ok {
		ch["to"] = []any{rw.email}
	}
	if hs, ok := mail["headers"].([]any); ok {
		for _, h := range hs {
			if hm, ok := h.(map[string]any); ok && strings.EqualFold(fmt.Sprint(hm["name"]), "To") {
				hm["value"] = rw.email
			}
		}
	}
	tags, _ := mail["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
		mail["tags"] = tags
	}
	tags["site"] = []any{rw.site}
	tags["contact"] = []any{rw.contactID}

	// Recipient lists: one entry, the contact (a two-recipient fixture
	// would otherwise count the same bounce twice for one person).
	for _, sec := range []struct{ section, list string }{
		{"bounce", "bouncedRecipients"}, {"complaint", "complainedRecipients"}, {"deliveryDelay", "delayedRecipients"},
	} {
		s, _ := m[sec.section].(map[string]any)
		if s == nil {
			continue
		}
		if l, ok := s[sec.list].([]any); ok && len(l) > 0 {
			first, _ := l[0].(map[string]any)
			if first == nil {
				first = map[string]any{}
			}
			first["emailAddress"] = rw.email
			s[sec.list] = []any{first}
		}
	}
	if d, ok := m["delivery"].(map[string]any); ok {
		d["recipients"] = []any{rw.email}
	}

	if rw.suffix != "" {
		if id, ok := mail["messageId"].(string); ok {
			mail["messageId"] = id + "-" + rw.suffix
		}
		for _, sec := range []string{"bounce", "complaint"} {
			if s, ok := m[sec].(map[string]any); ok {
				if id, ok := s["feedbackId"].(string); ok {
					s["feedbackId"] = id + "-" + rw.suffix
				}
			}
		}
	}
	if rw.shift != 0 {
		shiftTimes(m, rw.shift)
	}
	return m
}

func shiftTimes(v any, d time.Duration) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && isTimestampKey(k) {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					x[k] = t.Add(d).UTC().Format("2006-01-02T15:04:05.000Z")
				}
				continue
			}
			shiftTimes(c, d)
		}
	case []any:
		for _, c := range x {
			shiftTimes(c, d)
		}
	}
}

func kind(m map[string]any) string {
	if t, ok := m["eventType"].(string); ok {
		return "eventType=" + t
	}
	return fmt.Sprintf("notificationType=%v", m["notificationType"])
}

func mailID(m map[string]any) string {
	mail, _ := m["mail"].(map[string]any)
	return fmt.Sprint(mail["messageId"])
}
