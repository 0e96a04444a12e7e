package runner

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// queueAttributes maps a CloudFormation AWS::SQS::Queue's properties to
// CreateQueue attributes (all strings).
func queueAttributes(q Queue) map[string]string {
	attrs := map[string]string{}
	for _, k := range []string{"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
		"ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication",
		"DeduplicationScope", "FifoThroughputLimit"} {
		if v, ok := q.Properties[k]; ok && v != nil {
			attrs[k] = str(v)
		}
	}
	for _, k := range []string{"RedrivePolicy", "RedriveAllowPolicy"} {
		if v, ok := q.Properties[k]; ok && v != nil {
			if s, isStr := v.(string); isStr {
				attrs[k] = s
				continue
			}
			m, _ := v.(map[string]any)
			// maxReceiveCount is a number in the API's JSON.
			if n, ok := m["maxReceiveCount"]; ok {
				m["maxReceiveCount"] = intOr(n, 10)
			}
			b, _ := json.Marshal(m)
			attrs[k] = string(b)
		}
	}
	return attrs
}

// CreateQueues creates the template's queues (dead-letter targets first) and
// returns their URLs by name. CreateQueue is idempotent for equal attributes;
// a queue that exists with other attributes (a persisted queue, a changed
// template or visibility override) gets the template's attributes set.
//
// visibility, when > 0, replaces every VisibilityTimeout of the template
// (seconds): the template's values are sized for Lambda (6x the function's
// timeout, minutes), locally a failed message should come back, and reach
// the dead-letter queue after maxReceiveCount receives, within seconds.
func (e *Emulator) CreateQueues(ctx context.Context, queues []Queue, visibility int) (map[string]string, error) {
	ordered := append([]Queue(nil), queues...)
	sort.SliceStable(ordered, func(i, j int) bool {
		_, ri := ordered[i].Properties["RedrivePolicy"]
		_, rj := ordered[j].Properties["RedrivePolicy"]
		return !ri && rj
	})
	urls := map[string]string{}
	for _, q := range ordered {
		var out struct{ QueueUrl string }
		in := map[string]any{"QueueName": q.Name}
		attrs := queueAttributes(q)
		if visibility > 0 {
			attrs["VisibilityTimeout"] = strconv.Itoa(visibility)
		}
		if len(attrs) > 0 {
			in["Attributes"] = attrs
		}
		err := e.sqs(ctx, "CreateQueue", in, &out)
		var ae *awsError
		if errors.As(err, &ae) && (ae.Type == "QueueAlreadyExists" || ae.Type == "QueueNameExists") { // AWS says the first, moto 5.2.5 the second
			if err = e.sqs(ctx, "GetQueueUrl", map[string]any{"QueueName": q.Name}, &out); err == nil {
				// FIFO attributes cannot change; the others can.
				delete(attrs, "FifoQueue")
				err = e.sqs(ctx, "SetQueueAttributes", map[string]any{"QueueUrl": out.QueueUrl, "Attributes": attrs}, nil)
			}
		}
		if err != nil {
			return nil, err
		}
		urls[q.Name] = out.QueueUrl
		e.Log.Info("queue ready", "queue", q.Name, "visibilityTimeout", attrs["VisibilityTimeout"])
	}
	return urls, nil
}

// poller plays a Lambda SQS event source mapping: it long-polls a queue,
// invokes the function with batches and deletes what succeeded. Failed
// messages become visible again after the visibility timeout, and the
// emulator moves them to the dead-letter queue after maxReceiveCount.
type poller struct {
	emu      *Emulator
	invoker  Invoker
	function string
	event    QueueEvent
	url      string
	log      *slog.Logger
}

type sqsMessage struct {
	MessageId         string
	ReceiptHandle     string
	MD5OfBody         string
	Body              string
	Attributes        map[string]string
	MessageAttributes map[string]struct {
		StringValue      *string
		BinaryValue      []byte
		StringListValues []string
		BinaryListValues [][]byte
		DataType         string
	}
}

func (p *poller) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	backoff := time.Second
	for ctx.Err() == nil {
		_, err := p.pollOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("queue poll failed", "queue", p.event.Queue, "function", p.function, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// receive long-polls the queue once for at most max messages.
func (p *poller) receive(ctx context.Context, max, wait int) ([]sqsMessage, error) {
	var out struct{ Messages []sqsMessage }
	err := p.emu.sqs(ctx, "ReceiveMessage", map[string]any{
		"QueueUrl":                    p.url,
		"MaxNumberOfMessages":         max,
		"WaitTimeSeconds":             wait,
		"MessageAttributeNames":       []string{"All"},
		"MessageSystemAttributeNames": []string{"All"},
	}, &out)
	return out.Messages, err
}

// pollOnce receives one batch (long poll, at most 2s), invokes the
// function and deletes the messages that succeeded. It returns how many
// messages it received. Like Lambda, with a batching window it keeps
// gathering messages after the first until the batch is full (BatchSize,
// at most 10 here) or the window has passed.
func (p *poller) pollOnce(ctx context.Context) (int, error) {
	batch := p.event.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	msgs, err := p.receive(ctx, batch, 2)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	if p.event.BatchingWindow > 0 {
		deadline := time.Now().Add(time.Duration(p.event.BatchingWindow) * time.Second)
		for len(msgs) < batch && time.Until(deadline) > 0 {
			wait := int(time.Until(deadline).Round(time.Second) / time.Second)
			more, err := p.receive(ctx, batch-len(msgs), wait)
			if err != nil {
				break // invoke with what was received; those messages are in flight
			}
			msgs = append(msgs, more...)
			if wait == 0 && len(more) == 0 {
				break
			}
		}
	}
	out := struct{ Messages []sqsMessage }{msgs}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(out.Messages))}
	arn := "arn:aws:sqs:" + localRegion + ":" + localAccount + ":" + p.event.Queue
	for _, m := range out.Messages {
		rec := events.SQSMessage{
			MessageId: m.MessageId, ReceiptHandle: m.ReceiptHandle, Body: m.Body,
			Md5OfBody: m.MD5OfBody, Attributes: m.Attributes, EventSource: "aws:sqs",
			EventSourceARN: arn, AWSRegion: localRegion,
			MessageAttributes: map[string]events.SQSMessageAttribute{},
		}
		if rec.Md5OfBody == "" {
			sum := md5.Sum([]byte(m.Body))
			rec.Md5OfBody = hex.EncodeToString(sum[:])
		}
		for k, a := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: a.StringListValues, BinaryListValues: a.BinaryListValues, DataType: a.DataType}
		}
		ev.Records = append(ev.Records, rec)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return len(out.Messages), err
	}
	res, err := p.invoker.Invoke(ctx, p.function, payload)
	if err != nil {
		// The whole batch failed: it comes back after the visibility timeout.
		if errors.Is(err, ErrFunction) || errors.Is(err, ErrTimeout) {
			p.log.Warn("queue batch failed", "queue", p.event.Queue, "function", p.function, "messages", len(out.Messages))
			return len(out.Messages), nil
		}
		return len(out.Messages), err
	}
	failed := map[string]bool{}
	if p.event.ReportBatchItemFailures {
		var r events.SQSEventResponse
		if len(res) > 0 && string(res) != "null" {
			if err := json.Unmarshal(res, &r); err != nil {
				p.log.Warn("invalid batch response: whole batch failed", "function", p.function)
				return len(out.Messages), nil
			}
		}
		for _, f := range r.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var entries []map[string]string
	for i, m := range out.Messages {
		if !failed[m.MessageId] {
			entries = append(entries, map[string]string{"Id": strconv.Itoa(i), "ReceiptHandle": m.ReceiptHandle})
		}
	}
	if len(failed) > 0 {
		p.log.Info("queue batch partly failed", "queue", p.event.Queue, "function", p.function, "failed", len(failed), "messages", len(out.Messages))
	}
	if len(entries) > 0 {
		var del struct {
			Failed []struct{ Id, Message string }
		}
		if err := p.emu.sqs(ctx, "DeleteMessageBatch", map[string]any{"QueueUrl": p.url, "Entries": entries}, &del); err != nil {
			return len(out.Messages), err
		}
		if len(del.Failed) > 0 {
			return len(out.Messages), fmt.Errorf("delete: %d messages not deleted", len(del.Failed))
		}
	}
	return len(out.Messages), nil
}
