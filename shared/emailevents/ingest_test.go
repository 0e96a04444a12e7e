package emailevents_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/emailevents"
	"github.com/creator-platform/contacts/shared/store"
)

var (
	db    *dynamodb.Client
	table string
)

func TestMain(m *testing.M) {
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Println("ingest tests need the emulator: run them with `make test` (AWS_ENDPOINT_URL is not set)")
		os.Exit(1)
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	db = dynamodb.NewFromConfig(cfg)
	table = "contacts-ingest-test-" + rand.Text()[:8]
	if err := store.CreateTable(ctx, db, table); err != nil {
		fmt.Println("create table:", err)
		os.Exit(1)
	}
	code := m.Run()
	_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	os.Exit(code)
}

// world is one fresh site with the store, service and ingest over it.
type world struct {
	t      *testing.T
	site   string
	store  *store.Store
	svc    *contacts.Service
	ingest *emailevents.Ingest
}

func newWorld(t *testing.T) *world {
	st := store.New(db, table)
	return &world{
		t:      t,
		site:   fmt.Sprintf("ses%d", time.Now().UnixNano()),
		store:  st,
		svc:    contacts.NewService(st, 3650*24*time.Hour),
		ingest: &emailevents.Ingest{Store: st, Retention: 3650 * 24 * time.Hour},
	}
}

func (w *world) owner() auth.Caller {
	return auth.Caller{Site: w.site, Role: auth.Owner, Email: "owner@example.com", Location: time.UTC}
}

func (w *world) contact(email string) contacts.Contact {
	w.t.Helper()
	c, err := w.svc.Create(context.Background(), w.owner(), contacts.NewContact{Email: email, Subscribed: aws.Bool(true)})
	if err != nil {
		w.t.Fatalf("create %s: %v", email, err)
	}
	return c
}

func (w *world) profile(id string) contacts.Profile {
	w.t.Helper()
	p, err := w.svc.Profile(context.Background(), w.owner(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// permBounces reads the profile's permanent bounce count.
func (w *world) permBounces(id string) int {
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "S#" + w.site + "#C#" + id}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil {
		w.t.Fatal(err)
	}
	n, ok := out.Item["permBounces"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	var v int
	fmt.Sscan(n.Value, &v)
	return v
}

// retarget points a fixture at this world's site and contact, keeping its
// shape (an SNS envelope stays one). Identity notifications get no tags:
// tests register their message as sent instead.
func (w *world) retarget(body []byte, contactID, messageID string) []byte {
	w.t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		w.t.Fatal(err)
	}
	if env["Type"] == "Notification" {
		inner := w.retarget([]byte(env["Message"].(string)), contactID, messageID)
		env["Message"] = string(inner)
		out, _ := json.Marshal(env)
		return out
	}
	mail := env["mail"].(map[string]any)
	if messageID != "" {
		mail["messageId"] = messageID
	}
	if tags, ok := mail["tags"].(map[string]any); ok {
		tags["site"] = []string{w.site}
		tags["contact"] = []string{contactID}
	}
	out, _ := json.Marshal(env)
	return out
}

func (w *world) ingestBody(body []byte) emailevents.Result {
	w.t.Helper()
	r, err := w.ingest.Record(context.Background(), body)
	if err != nil {
		w.t.Fatalf("ingest: %v", err)
	}
	return r
}

func lifecycleTypes(p contacts.Profile) []string {
	var out []string
	for _, e := range p.Lifecycle {
		if e.Type != contacts.EventContactAdded {
			out = append(out, e.Type)
		}
	}
	return out
}

func TestEveryFixtureLandsAsItsTypeRequires(t *testing.T) {
	tests := []struct {
		file       string
		entry      string
		status     string // subscription status after
		reason     string
		identity   bool // no tags: found through the message this product sent
		detailKeys []string
	}{
		{"event-send.json", emailevents.TypeSent, contacts.Subscribed, "", false, []string{"campaign", "campaignKind", "messageId"}},
		{"event-delivery.json", emailevents.TypeDelivered, contacts.Subscribed, "", false, []string{"campaign"}},
		{"event-open.json", emailevents.TypeOpened, contacts.Subscribed, "", false, []string{"campaignKind"}},
		{"event-click.json", emailevents.TypeClicked, contacts.Subscribed, "", false, []string{"link"}},
		{"event-bounce-permanent.json", emailevents.TypeBounced, contacts.Subscribed, "", false, []string{"bounceType"}},
		{"event-bounce-transient.json", emailevents.TypeBounced, contacts.Subscribed, "", false, []string{"bounceType"}},
		{"event-complaint.json", emailevents.TypeComplained, contacts.Unsubscribed, emailevents.ReasonMarkedSpam, false, nil},
		{"event-subscription.json", emailevents.TypeUnsubscribed, contacts.Unsubscribed, emailevents.ReasonOptedOut, false, nil},
		{"event-reject.json", emailevents.TypeRejected, contacts.Subscribed, "", false, []string{"reason"}},
		{"event-delivery-delay.json", emailevents.TypeDelayed, contacts.Subscribed, "", false, []string{"delayType"}},
		{"event-rendering-failure.json", emailevents.TypeRenderingFailed, contacts.Subscribed, "", false, nil},
		{"sns-envelope-bounce.json", emailevents.TypeBounced, contacts.Subscribed, "", false, nil},
		{"notification-complaint-no-feedback.json", emailevents.TypeComplained, contacts.Unsubscribed, emailevents.ReasonMarkedSpam, true, nil},
		{"notification-delivery-odd-timestamp.json", emailevents.TypeDelivered, contacts.Subscribed, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			w := newWorld(t)
			raw := readFixture(t, tt.file)
			evs, err := emailevents.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			c := w.contact(evs[0].Recipient)
			if tt.identity {
				if err := w.store.RecordSentMessage(context.Background(), emailevents.SentMessage{MessageID: evs[0].MessageID, Site: w.site, ContactID: c.ID}, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			r := w.ingestBody(w.retarget(raw, c.ID, ""))
			if r.Recorded != 1 || r.Unmatched != 0 {
				t.Fatalf("result %+v", r)
			}
			p := w.profile(c.ID)
			types := lifecycleTypes(p)
			if len(types) != 1 || types[0] != tt.entry {
				t.Fatalf("lifecycle %v, want [%s]", types, tt.entry)
			}
			if p.Subscription.Status != tt.status || p.Subscription.Reason != tt.reason {
				t.Errorf("subscription %+v, want %s (%s)", p.Subscription, tt.status, tt.reason)
			}
			for _, e := range p.Lifecycle {
				for _, k := range tt.detailKeys {
					if e.Type == tt.entry && e.Detail[k] == "" {
						t.Errorf("lifecycle detail lacks %s: %v", k, e.Detail)
					}
				}
			}
		})
	}
}

func TestTwoRecipientNotificationUpdatesBoth(t *testing.T) {
	w := newWorld(t)
	raw := readFixture(t, "notification-bounce-multi.json")
	one := w.contact("gone1@example.org")
	two := w.contact("gone2@example.org") // the bounce names Gone2@Example.org
	evs, _ := emailevents.Parse(raw)
	// An identity notification carries no tags: the product's own record of
	// the message gives the site, the addresses give the contacts.
	if err := w.store.RecordSentMessage(context.Background(), emailevents.SentMessage{MessageID: evs[0].MessageID, Site: w.site}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := w.ingestBody(raw); r.Recorded != 2 {
		t.Fatalf("result %+v", r)
	}
	for _, c := range []contacts.Contact{one, two} {
		if types := lifecycleTypes(w.profile(c.ID)); len(types) != 1 || types[0] != emailevents.TypeBounced {
			t.Errorf("%s lifecycle %v", c.Email, types)
		}
		if w.permBounces(c.ID) != 1 {
			t.Errorf("%s permanent bounces %d", c.Email, w.permBounces(c.ID))
		}
	}
}

func TestUnmatchedEventsAreCountedAndAcknowledged(t *testing.T) {
	w := newWorld(t)
	// No tags, and a message id this product never sent.
	raw := w.retarget(readFixture(t, "notification-bounce-multi.json"), "", fmt.Sprint("never-sent-", time.Now().UnixNano()))
	resp, err := w.ingest.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(raw)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("unmatched events must be acknowledged: %+v %v", resp, err)
	}
	r, _ := w.ingest.Record(context.Background(), raw)
	if r.Unmatched != 2 || r.Recorded != 0 {
		t.Fatalf("result %+v", r)
	}
}

func TestSameMessageThreeTimesIsOneEntryAndOneBounce(t *testing.T) {
	w := newWorld(t)
	c := w.contact("bounce@simulator.amazonses.com")
	body := w.retarget(readFixture(t, "sns-envelope-bounce.json"), c.ID, "")
	results := []emailevents.Result{w.ingestBody(body), w.ingestBody(body), w.ingestBody(body)}
	if results[0].Recorded != 1 || results[1].Duplicates != 1 || results[2].Duplicates != 1 {
		t.Fatalf("results %+v", results)
	}
	if types := lifecycleTypes(w.profile(c.ID)); len(types) != 1 {
		t.Fatalf("lifecycle %v", types)
	}
	if n := w.permBounces(c.ID); n != 1 {
		t.Fatalf("permanent bounces counted %d, want 1", n)
	}
}

// bounce returns a permanent (or transient) bounce for contact c at t.
func (w *world) bounce(c contacts.Contact, kind string, at time.Time, messageID string) []byte {
	raw := readFixture(w.t, "event-bounce-permanent.json")
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	b := m["bounce"].(map[string]any)
	b["bounceType"] = kind
	b["timestamp"] = at.Format(time.RFC3339Nano)
	b["bouncedRecipients"] = []map[string]string{{"emailAddress": c.Email}}
	m["mail"].(map[string]any)["destination"] = []string{c.Email}
	out, _ := json.Marshal(m)
	return w.retarget(out, c.ID, messageID)
}

func TestBounceRules(t *testing.T) {
	w := newWorld(t)
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	within := w.contact("within@example.com")
	w.ingestBody(w.bounce(within, "Permanent", start, "m-1"))
	if p := w.profile(within.ID); p.Subscription.Status != contacts.Subscribed {
		t.Fatalf("one permanent bounce unsubscribed: %+v", p.Subscription)
	}
	w.ingestBody(w.bounce(within, "Permanent", start.Add(3*24*time.Hour), "m-2"))
	if p := w.profile(within.ID); p.Subscription.Status != contacts.Unsubscribed || p.Subscription.Reason != emailevents.ReasonBounced {
		t.Fatalf("two permanent bounces in 3 days: %+v", p.Subscription)
	}

	apart := w.contact("apart@example.com")
	w.ingestBody(w.bounce(apart, "Permanent", start, "m-3"))
	w.ingestBody(w.bounce(apart, "Permanent", start.Add(5*24*time.Hour), "m-4"))
	if p := w.profile(apart.ID); p.Subscription.Status != contacts.Subscribed {
		t.Fatalf("bounces 5 days apart unsubscribed: %+v", p.Subscription)
	}

	transient := w.contact("transient@example.com")
	for i := range 4 {
		w.ingestBody(w.bounce(transient, "Transient", start.Add(time.Duration(i)*time.Hour), fmt.Sprint("t-", i)))
	}
	if p := w.profile(transient.ID); p.Subscription.Status != contacts.Subscribed || len(lifecycleTypes(p)) != 4 {
		t.Fatalf("transient bounces: %+v, %v", p.Subscription, lifecycleTypes(p))
	}

	changed := w.contact("old-address@example.com")
	w.ingestBody(w.bounce(changed, "Permanent", start, "m-5"))
	newEmail := "new-address@example.com"
	updated, err := w.svc.Update(context.Background(), w.owner(), changed.ID, contacts.ContactPatch{Email: &newEmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.ingestBody(w.bounce(updated, "Permanent", start.Add(24*time.Hour), "m-6"))
	if p := w.profile(changed.ID); p.Subscription.Status != contacts.Subscribed {
		t.Fatalf("a bounce before the email changed still counted: %+v", p.Subscription)
	}
}

func TestBatchWithOnePoisonRecord(t *testing.T) {
	w := newWorld(t)
	var records []events.SQSMessage
	for i := range 9 {
		c := w.contact(fmt.Sprintf("batch%d@example.com", i))
		records = append(records, events.SQSMessage{MessageId: fmt.Sprint("ok-", i), Body: string(w.bounce(c, "Transient", time.Now(), fmt.Sprint("b-", i)))})
	}
	records = append(records[:4], append([]events.SQSMessage{{MessageId: "poison", Body: `{"eventType":`}}, records[4:]...)...)
	resp, err := w.ingest.Handle(context.Background(), events.SQSEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "poison" {
		t.Fatalf("failures %+v, want only the poison record", resp.BatchItemFailures)
	}
	page, _ := w.svc.List(context.Background(), w.owner(), contacts.ListQuery{Limit: 20})
	for _, c := range page.Items {
		if types := lifecycleTypes(w.profile(c.ID)); len(types) != 1 {
			t.Errorf("%s: %v", c.Email, types)
		}
	}
}

// flakyStore fails every third write: alternately before writing and after
// the write succeeded (the worst case: the caller cannot know it landed).
type flakyStore struct {
	emailevents.Store
	calls atomic.Int64
}

var errInjected = errors.New("injected store failure")

func (f *flakyStore) ApplyEmailEvent(ctx context.Context, site, contactID string, e contacts.LifecycleEntry, effect emailevents.Effect) (bool, error) {
	n := f.calls.Add(1)
	if n%3 != 0 {
		return f.Store.ApplyEmailEvent(ctx, site, contactID, e, effect)
	}
	if n%6 == 0 {
		return false, errInjected
	}
	_, _ = f.Store.ApplyEmailEvent(ctx, site, contactID, e, effect)
	return false, errInjected
}

func TestStoreFailureEveryThirdWriteStillRecordsEachEventOnce(t *testing.T) {
	w := newWorld(t)
	w.ingest.Store = &flakyStore{Store: w.store}
	var pending []events.SQSMessage
	people := map[string]contacts.Contact{}
	for i := range 12 {
		c := w.contact(fmt.Sprintf("flaky%d@example.com", i))
		people[c.ID] = c
		pending = append(pending, events.SQSMessage{MessageId: fmt.Sprint("p-", i), Body: string(w.bounce(c, "Permanent", time.Now(), fmt.Sprint("f-", i)))})
	}
	// Redeliver what failed, as SQS would, a bounded number of times.
	for round := 0; round < 10 && len(pending) > 0; round++ {
		resp, err := w.ingest.Handle(context.Background(), events.SQSEvent{Records: pending})
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		var next []events.SQSMessage
		for _, r := range pending {
			if failed[r.MessageId] {
				next = append(next, r)
			}
		}
		pending = next
	}
	if len(pending) != 0 {
		t.Fatalf("%d records never succeeded", len(pending))
	}
	for id, c := range people {
		if types := lifecycleTypes(w.profile(id)); len(types) != 1 {
			t.Errorf("%s: lifecycle %v, want one bounce", c.Email, types)
		}
		if n := w.permBounces(id); n != 1 {
			t.Errorf("%s: %d bounces counted, want 1", c.Email, n)
		}
	}
}
