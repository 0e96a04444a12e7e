// Command bench measures the numbers the design sets, in one run on this
// machine, and prints them with the ratios that matter (absolute times on a
// shared machine are noisy; ratios measured side by side are not):
//
//   - bootstrap sizes of every function (as built for the runner);
//   - cold start of one function: process start to its first /next call;
//   - profile reads through the local runner (HTTP, JWT, Runtime API) beside
//     the same handler called directly in this process, against the same
//     emulator: p50, p99 and their ratios;
//   - DynamoDB requests per profile read and the capacity they consume.
//
// It needs the emulator (make bench starts it) and builds every function.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/creator-platform/contacts/local/runner"
	"github.com/creator-platform/contacts/shared/api"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/emailevents"
	"github.com/creator-platform/contacts/shared/store"
)

func main() {
	reads := flag.Int("reads", 400, "profile reads per path")
	ingestEvents := flag.Int("events", 500, "SES events to ingest")
	colds := flag.Int("cold", 10, "cold starts to measure")
	emulator := flag.String("emulator", "127.0.0.1:4566", "emulator address")
	flag.Parse()
	if err := run(*reads, *colds, *ingestEvents, *emulator); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(reads, colds, eventCount int, emulator string) error {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	slog.SetDefault(quiet)
	r, err := runner.Start(ctx, runner.Config{Addr: "127.0.0.1:0", EmulatorAddr: emulator, MaxInstances: 1, Logger: quiet})
	if err != nil {
		return err
	}
	defer r.Close()
	table, err := tableName()
	if err != nil {
		return err
	}

	fmt.Println("== bootstrap sizes (host architecture, stripped; limit 12 MB)")
	var largest int64
	for _, fn := range r.Functions() {
		st, err := os.Stat(filepath.Join(".local", "build", fn, "bootstrap"))
		if err != nil {
			return err
		}
		largest = max(largest, st.Size())
		fmt.Printf("  %-24s %6.2f MB\n", fn, float64(st.Size())/1e6)
	}
	fmt.Printf("  largest                  %6.2f MB\n", float64(largest)/1e6)

	// A contact with a realistic profile: tags, notes, lifecycle.
	site := fmt.Sprintf("bench%d", time.Now().UnixNano())
	token, err := r.Token(runner.TokenClaims{Subject: "bench", Email: "owner@bench.example", Site: site, Role: "owner"})
	if err != nil {
		return err
	}
	id, err := seedContact(r.URL(), token)
	if err != nil {
		return err
	}

	fmt.Println("\n== cold start of GetContactFunction (process start to first /next)")
	for range colds {
		if err := r.StopInstances("GetContactFunction"); err != nil {
			return err
		}
		if _, err := get(r.URL()+"/contacts/"+id, token); err != nil {
			return err
		}
	}
	cs := r.ColdStarts()["GetContactFunction"]
	fmt.Printf("  n=%d  p50 %v  min %v  max %v  (target <= 30ms)\n", len(cs), pct(cs, 50), slices.Min(cs), slices.Max(cs))

	// The same handler, called directly, over the same emulator and table.
	var requests atomic.Int64
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint("http://"+emulator),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		return err
	}
	cfg.APIOptions = append(cfg.APIOptions, countRequests(&requests))
	db := dynamodb.NewFromConfig(cfg)
	handler := api.GetContact(contacts.NewService(store.New(db, table), 365*24*time.Hour))
	event := events.APIGatewayV2HTTPRequest{
		RouteKey:       "GET /contacts/{id}",
		RawPath:        "/contacts/" + id,
		PathParameters: map[string]string{"id": id},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"site": site, "role": "owner", "sub": "bench", "email": "owner@bench.example"}},
		}},
	}
	before := requests.Load()
	if resp, err := handler.Handle(ctx, event); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("direct profile read: %d %v", resp.StatusCode, err)
	}
	perRead := requests.Load() - before

	// Warm both paths, then alternate blocks so drift hits both alike.
	var viaRunner, direct []time.Duration
	for i := range reads + 20 {
		t0 := time.Now()
		if _, err := get(r.URL()+"/contacts/"+id, token); err != nil {
			return err
		}
		d1 := time.Since(t0)
		t0 = time.Now()
		if _, err := handler.Handle(ctx, event); err != nil {
			return err
		}
		d2 := time.Since(t0)
		if i >= 20 {
			viaRunner, direct = append(viaRunner, d1), append(direct, d2)
		}
	}
	fmt.Printf("\n== profile read, %d each, alternating (target: runner <= 1.5x direct)\n", reads)
	fmt.Printf("  %-28s p50 %8v  p99 %8v\n", "through the runner (HTTP)", pct(viaRunner, 50), pct(viaRunner, 99))
	fmt.Printf("  %-28s p50 %8v  p99 %8v\n", "handler called directly", pct(direct, 50), pct(direct, 99))
	fmt.Printf("  %-28s p50 %7.2fx  p99 %7.2fx\n", "ratio runner/direct",
		float64(pct(viaRunner, 50))/float64(pct(direct, 50)), float64(pct(viaRunner, 99))/float64(pct(direct, 99)))

	fmt.Println("\n== DynamoDB work per profile read")
	fmt.Printf("  requests: %d (target <= 2, issued in parallel)\n", perRead)
	rcu, err := profileCapacity(ctx, db, table, site, id)
	if err != nil {
		return err
	}
	fmt.Printf("  consumed capacity: %s\n", rcu)

	if err := benchIngest(ctx, db, table, site, eventCount); err != nil {
		return err
	}
	return benchSignIn(ctx, db, table, site)
}

// nullMailer accepts every email (the bench sends none it reads).
type nullMailer struct{}

func (nullMailer) Send(context.Context, contacts.Email) (string, error) {
	return fmt.Sprint("bench-", time.Now().UnixNano()), nil
}

// benchSignIn times failed sign-ins for a known email with a wrong
// password beside those for an unknown email: the answers are the same
// bytes, and the time should not tell them apart either.
func benchSignIn(ctx context.Context, db *dynamodb.Client, table, site string) error {
	st := store.New(db, table)
	p := contacts.NewPasswords(st, nullMailer{}, 365*24*time.Hour, "https://{site}.creator.example")
	p.PerEmailLimit, p.PerIPLimit = 1000, 1000 // measure the check, not the limiter
	amount := int64(100)
	svc := contacts.NewService(st, 365*24*time.Hour)
	bought, _, err := svc.RecordPurchase(ctx, auth.Caller{Site: site, Role: auth.Service, Location: time.UTC},
		contacts.NewPurchase{Email: "member@bench.example", OfferID: "o", Amount: &amount, Currency: "USD", OrderID: "bench-signin"})
	if err != nil {
		return err
	}
	if err := p.ChangePassword(ctx, auth.Caller{Site: site, Role: auth.Owner, Email: "owner@bench.example", Location: time.UTC}, bought.ContactID, "the right passphrase"); err != nil {
		return err
	}
	var wrong, unknown []time.Duration
	for i := range 40 {
		t0 := time.Now()
		_, errWrong := p.SignIn(ctx, site, "member@bench.example", "a wrong passphrase", "198.51.100.1")
		d1 := time.Since(t0)
		t0 = time.Now()
		_, errUnknown := p.SignIn(ctx, site, fmt.Sprintf("nobody%d@bench.example", i), "a wrong passphrase", "198.51.100.2")
		d2 := time.Since(t0)
		if !errors.Is(errWrong, contacts.ErrInvalidCredentials) || !errors.Is(errUnknown, contacts.ErrInvalidCredentials) {
			return fmt.Errorf("sign-in answers: %v / %v", errWrong, errUnknown)
		}
		if i >= 5 {
			wrong, unknown = append(wrong, d1), append(unknown, d2)
		}
	}
	fmt.Printf("\n== failed sign-ins, %d each, alternating (same answer; the time should not tell)\n", len(wrong))
	fmt.Printf("  %-34s p50 %8v  p99 %8v\n", "known email, wrong password", pct(wrong, 50), pct(wrong, 99))
	fmt.Printf("  %-34s p50 %8v  p99 %8v\n", "unknown email", pct(unknown, 50), pct(unknown, 99))
	fmt.Printf("  %-34s p50 %7.2fx\n", "ratio unknown/known", float64(pct(unknown, 50))/float64(pct(wrong, 50)))
	return nil
}

// benchIngest measures SES event ingest (the ingest function's handler, in
// batches of 10 as the event source mapping delivers them) beside the
// emulator's own single-item write rate, in the same run, and checks that
// no event was lost or counted twice.
func benchIngest(ctx context.Context, db *dynamodb.Client, table, site string, n int) error {
	st := store.New(db, table)
	svc := contacts.NewService(st, 365*24*time.Hour)
	owner := auth.Caller{Site: site, Role: auth.Owner, Email: "owner@bench.example", Location: time.UTC}
	var ids []string
	for i := range 20 {
		c, err := svc.Create(ctx, owner, contacts.NewContact{Email: fmt.Sprintf("ingest%d@example.com", i)})
		if err != nil {
			return err
		}
		ids = append(ids, c.ID)
	}
	// The emulator's raw rate: single PutItem calls of an entry-sized item.
	t0 := time.Now()
	for i := range n {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"PK": sv("BENCH#" + site), "SK": sv(fmt.Sprintf("RAW#%06d", i)), "type": sv("event"), "eventType": sv("email_delivered"),
			"at": sv(time.Now().UTC().Format(time.RFC3339Nano)), "detail": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"messageId": sv(fmt.Sprint("raw-", i))}},
		}})
		if err != nil {
			return err
		}
	}
	raw := float64(n) / time.Since(t0).Seconds()

	ingest := &emailevents.Ingest{Store: st, Retention: 365 * 24 * time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var batch []events.SQSMessage
	recorded := 0
	t0 = time.Now()
	for i := range n {
		id := ids[i%len(ids)]
		body := fmt.Sprintf(`{"eventType":"Delivery","mail":{"timestamp":"2026-11-20T14:59:38.237Z","messageId":"bench-%s-%d","destination":["ingest%d@example.com"],"tags":{"site":[%q],"contact":[%q],"campaign":["bench"],"campaign_kind":["broadcast"]}},"delivery":{"timestamp":"2026-11-20T14:59:40.000Z","recipients":["ingest%d@example.com"]}}`,
			site, i, i%len(ids), site, id, i%len(ids))
		batch = append(batch, events.SQSMessage{MessageId: fmt.Sprint(i), Body: body})
		if len(batch) == 10 || i == n-1 {
			resp, err := ingest.Handle(ctx, events.SQSEvent{Records: batch})
			if err != nil || len(resp.BatchItemFailures) > 0 {
				return fmt.Errorf("ingest batch: %v %v", resp.BatchItemFailures, err)
			}
			recorded += len(batch)
			batch = batch[:0]
		}
	}
	rate := float64(n) / time.Since(t0).Seconds()
	// Deliver everything again: nothing may change.
	again, err := ingest.Record(ctx, []byte(fmt.Sprintf(`{"eventType":"Delivery","mail":{"timestamp":"2026-11-20T14:59:38.237Z","messageId":"bench-%s-0","destination":["ingest0@example.com"],"tags":{"site":[%q],"contact":[%q]}},"delivery":{"timestamp":"2026-11-20T14:59:40.000Z","recipients":["ingest0@example.com"]}}`, site, site, ids[0])))
	if err != nil {
		return err
	}
	stored := 0
	for _, id := range ids {
		page, err := svc.Lifecycle(ctx, owner, id, contacts.LifecycleQuery{Limit: 100, Type: emailevents.TypeDelivered})
		if err != nil {
			return err
		}
		stored += len(page.Items)
	}
	fmt.Printf("\n== SES event ingest, %d events in batches of 10 (target >= 0.8x the raw write rate)\n", n)
	fmt.Printf("  %-34s %8.0f writes/s\n", "emulator raw single-item PutItem", raw)
	fmt.Printf("  %-34s %8.0f events/s\n", "ingest (parse, match, record)", rate)
	fmt.Printf("  %-34s %8.2fx\n", "ratio ingest/raw", rate/raw)
	fmt.Printf("  sent %d, stored %d, redelivery changed %d (lost or doubled: %d)\n", recorded, stored, again.Recorded, recorded-stored+again.Recorded)
	return nil
}

// seedContact creates a contact with tags, ten notes and its lifecycle entry.
func seedContact(base, token string) (string, error) {
	body := `{"email":"bench@example.com","name":"Bench Mark","company":"Measure Ltd","tags":["vip","webinar-2026"]}`
	req, _ := http.NewRequest("POST", base+"/contacts", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var c struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != 201 {
		return "", fmt.Errorf("create contact: %d %v", resp.StatusCode, err)
	}
	for i := range 10 {
		req, _ := http.NewRequest("POST", base+"/contacts/"+c.ID+"/notes", strings.NewReader(fmt.Sprintf(`{"body":"note %d: %s"}`, i, strings.Repeat("words ", 40))))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
	}
	return c.ID, nil
}

func get(url, token string) ([]byte, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

// profileCapacity runs the profile's two queries with consumed capacity
// reported; where the emulator does not report it, it estimates from item
// sizes (strongly consistent reads: 1 RCU per 4 KB read, per query).
func profileCapacity(ctx context.Context, db *dynamodb.Client, table, site, id string) (string, error) {
	pk := "S#" + site + "#C#" + id
	var total float64
	var bytes int
	reported := true
	queries := []*dynamodb.QueryInput{
		{KeyConditionExpression: aws.String("PK = :pk AND SK > :after"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pk), ":after": sv("EVENT#~")}},
		{KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(20),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pk), ":prefix": sv("EVENT#")}},
	}
	for _, q := range queries {
		q.TableName = aws.String(table)
		q.ConsistentRead = aws.Bool(true)
		q.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		out, err := db.Query(ctx, q)
		if err != nil {
			return "", err
		}
		size := 0
		for _, item := range out.Items {
			size += itemSize(item)
		}
		bytes += size
		if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
			total += *out.ConsumedCapacity.CapacityUnits
		} else {
			reported = false
			total += float64((size + 4095) / 4096)
		}
	}
	how := "reported by the emulator"
	if !reported {
		how = "estimated from item sizes"
	}
	return fmt.Sprintf("%.1f RCU for %.1f KB read (%s)", total, float64(bytes)/1024, how), nil
}

func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// itemSize approximates DynamoDB's item size: attribute names plus values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		default:
			raw, _ := json.Marshal(v)
			n += len(raw)
		}
	}
	return n
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func countRequests(n *atomic.Int64) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			n.Add(1)
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	}
}

// tableName reads the table's local name the way the runner resolves it.
func tableName() (string, error) {
	t, err := runner.LoadTemplate("template.yaml", "")
	if err != nil {
		return "", err
	}
	if len(t.Tables) == 0 {
		return "", fmt.Errorf("no table in template.yaml")
	}
	return t.Tables[0].Name, nil
}
