package runner

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// SNS in the emulator. moto delivers a Publish to every sqs subscription of
// the topic in-process: the queue receives the SNS envelope (Type,
// MessageId, TopicArn, Message, Timestamp, SignatureVersion, Signature,
// SigningCertURL, UnsubscribeURL) unless RawMessageDelivery is true, in
// which case it receives the message itself. Measured with moto 5.2.5.
// moto does not enforce queue policies; the runner applies them anyway so
// that the local queue's attributes match the template.

// sns calls an SNS (AWS query protocol) operation on the emulator and
// decodes the XML answer into out (the <Action>Result element's fields).
func (e *Emulator) sns(ctx context.Context, action string, params url.Values, out any) error {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("Action", action)
	form.Set("Version", "2010-03-31")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/"+localRegion+"/sns/aws4_request, SignedHeaders=host, Signature=local")
	resp, err := e.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("sns %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		var ae struct {
			Error struct{ Code, Message string }
		}
		_ = xml.Unmarshal(body, &ae)
		return &awsError{Service: "sns", Op: action, Type: ae.Error.Code, Message: ae.Error.Message, Status: resp.StatusCode}
	}
	if out != nil {
		return xml.Unmarshal(body, out)
	}
	return nil
}

// attributeParams encodes a map as SNS query attributes
// (Attributes.entry.N.key / .value), in key order.
func attributeParams(p url.Values, prefix string, attrs map[string]string) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		n := prefix + ".entry." + strconv.Itoa(i+1)
		p.Set(n+".key", k)
		p.Set(n+".value", attrs[k])
	}
}

// CreateTopics creates the template's topics (CreateTopic is idempotent)
// and returns their ARNs by logical id.
func (e *Emulator) CreateTopics(ctx context.Context, topics []Topic) (map[string]string, error) {
	arns := map[string]string{}
	for _, t := range topics {
		var out struct {
			TopicArn string `xml:"CreateTopicResult>TopicArn"`
		}
		if err := e.sns(ctx, "CreateTopic", url.Values{"Name": {t.Name}}, &out); err != nil {
			return nil, err
		}
		if out.TopicArn != t.ARN {
			return nil, fmt.Errorf("topic %s: emulator answered ARN %s, the template resolves %s", t.LogicalID, out.TopicArn, t.ARN)
		}
		arns[t.LogicalID] = out.TopicArn
		e.Log.Info("topic ready", "topic", t.Name)
	}
	return arns, nil
}

// Subscribe creates the template's subscriptions. Subscribe is idempotent
// for the same topic, protocol and endpoint (the same subscription ARN
// comes back), so restarts do not duplicate deliveries; the attributes are
// set again each time so that a changed template takes effect.
func (e *Emulator) Subscribe(ctx context.Context, subs []Subscription) error {
	for _, s := range subs {
		if s.Protocol != "sqs" {
			e.Log.Warn("subscription protocol not emulated; skipped", "subscription", s.LogicalID, "protocol", s.Protocol)
			continue
		}
		p := url.Values{"TopicArn": {s.TopicARN}, "Protocol": {s.Protocol}, "Endpoint": {s.Endpoint},
			"ReturnSubscriptionArn": {"true"}}
		var out struct {
			SubscriptionArn string `xml:"SubscribeResult>SubscriptionArn"`
		}
		if err := e.sns(ctx, "Subscribe", p, &out); err != nil {
			return fmt.Errorf("subscription %s: %w", s.LogicalID, err)
		}
		keys := make([]string, 0, len(s.Attributes))
		for k := range s.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := url.Values{"SubscriptionArn": {out.SubscriptionArn}, "AttributeName": {k}, "AttributeValue": {s.Attributes[k]}}
			if err := e.sns(ctx, "SetSubscriptionAttributes", p, nil); err != nil {
				return fmt.Errorf("subscription %s: %w", s.LogicalID, err)
			}
		}
		e.Log.Info("subscription ready", "subscription", s.LogicalID, "topic", s.TopicARN, "endpoint", s.Endpoint)
	}
	return nil
}

// Publish publishes message to a topic and returns SNS's message id.
func (e *Emulator) Publish(ctx context.Context, topicARN, message string) (string, error) {
	var out struct {
		MessageId string `xml:"PublishResult>MessageId"`
	}
	err := e.sns(ctx, "Publish", url.Values{"TopicArn": {topicARN}, "Message": {message}}, &out)
	return out.MessageId, err
}

// ApplyQueuePolicies sets each AWS::SQS::QueuePolicy on its queues.
func (e *Emulator) ApplyQueuePolicies(ctx context.Context, policies []QueuePolicy, urls map[string]string) error {
	for _, qp := range policies {
		for _, q := range qp.Queues {
			u, ok := urls[q]
			if !ok {
				e.Log.Warn("queue policy names a queue outside the template; skipped", "policy", qp.LogicalID, "queue", q)
				continue
			}
			in := map[string]any{"QueueUrl": u, "Attributes": map[string]string{"Policy": qp.Policy}}
			if err := e.sqs(ctx, "SetQueueAttributes", in, nil); err != nil {
				return fmt.Errorf("queue policy %s: %w", qp.LogicalID, err)
			}
		}
	}
	return nil
}
