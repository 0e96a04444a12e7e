package emailevents

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
)

// SentMessage is a message this product sent itself (a password reset, say),
// remembered by its SES message id so that its events find the contact.
type SentMessage struct {
	MessageID string
	Site      string
	ContactID string
}

// Effect is what an event does to the profile besides its lifecycle entry.
type Effect struct {
	Unsubscribe     string // a reason: unsubscribe now (if not already)
	PermanentBounce bool   // count it; a second within BounceWindow unsubscribes
	At              time.Time
}

// BounceWindow: two permanent bounces on one site within it unsubscribe.
const BounceWindow = 4 * 24 * time.Hour

// Store is what the ingest needs from storage.
type Store interface {
	SentMessage(ctx context.Context, messageID string) (SentMessage, bool, error)
	ContactIDByEmail(ctx context.Context, site, emailKey string) (string, bool, error)
	// ApplyEmailEvent writes the lifecycle entry and the effect in one
	// request, once: a second delivery of the same event changes nothing
	// and reports applied false.
	ApplyEmailEvent(ctx context.Context, site, contactID string, e contacts.LifecycleEntry, effect Effect) (applied bool, err error)
}

// Ingest records SES events on profiles.
type Ingest struct {
	Store     Store
	Retention time.Duration // lifecycle TTL
	Log       *slog.Logger
}

// Result counts what one batch did.
type Result struct {
	Recorded, Duplicates, Unmatched, Failed int
}

// Handle is the SQS event source's entry point: each record on its own; a
// record that cannot be parsed or whose write fails is reported as a batch
// item failure, so SQS retries it and, after maxReceiveCount, moves it to
// the dead-letter queue. Unmatched events are counted, logged and
// acknowledged: retrying cannot match them.
func (in *Ingest) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var total Result
	for _, rec := range ev.Records {
		r, err := in.Record(ctx, []byte(rec.Body))
		total.Recorded += r.Recorded
		total.Duplicates += r.Duplicates
		total.Unmatched += r.Unmatched
		if err != nil {
			total.Failed++
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			in.log().WarnContext(ctx, "email event record failed", "messageId", rec.MessageId, "error", err.Error())
		}
	}
	in.log().InfoContext(ctx, "email events ingested", "records", len(ev.Records),
		"recorded", total.Recorded, "duplicates", total.Duplicates, "unmatched", total.Unmatched, "failed", total.Failed)
	return resp, nil
}

func (in *Ingest) log() *slog.Logger {
	if in.Log == nil {
		return slog.Default()
	}
	return in.Log
}

// Record ingests one SQS message body.
func (in *Ingest) Record(ctx context.Context, body []byte) (Result, error) {
	var r Result
	evs, err := Parse(body)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, e := range evs {
		applied, matched, err := in.apply(ctx, e)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !matched:
			r.Unmatched++
			in.log().InfoContext(ctx, "email event unmatched", "type", e.Type, "messageId", e.MessageID, "site", e.Site)
		case applied:
			r.Recorded++
		default:
			r.Duplicates++
		}
	}
	return r, errors.Join(errs...)
}

// apply records one event on its contact. The tags are tried first at no
// cost: the write itself checks the tagged contact exists. Only when they do
// not name a contact of the site are the sent messages and the address read.
func (in *Ingest) apply(ctx context.Context, e Event) (applied, matched bool, err error) {
	entry := contacts.LifecycleEntry{ID: e.ID, Type: e.Type, At: e.At, Detail: e.Detail, ExpiresAt: e.At.Add(in.Retention)}
	effect := Effect{Unsubscribe: e.Unsubscribe, PermanentBounce: e.PermanentBounce, At: e.At}
	if e.Site != "" && e.ContactID != "" && e.Single && contacts.ValidID(e.ContactID) {
		applied, err := in.Store.ApplyEmailEvent(ctx, e.Site, e.ContactID, entry, effect)
		if !errors.Is(err, apperr.ErrContactNotFound) {
			return applied, err == nil, err
		}
	}
	site, contactID, ok, err := in.resolve(ctx, e)
	if err != nil || !ok {
		return false, false, err
	}
	applied, err = in.Store.ApplyEmailEvent(ctx, site, contactID, entry, effect)
	if errors.Is(err, apperr.ErrContactNotFound) {
		return false, false, nil // deleted since: nothing to record it on
	}
	return applied, err == nil, err
}

// resolve finds the site and contact of an event whose tags did not: the
// messages this product sent, then the recipient's address within the
// tagged or recorded site.
func (in *Ingest) resolve(ctx context.Context, e Event) (site, contactID string, ok bool, err error) {
	site = e.Site
	sent, found, err := in.Store.SentMessage(ctx, e.MessageID)
	if err != nil {
		return "", "", false, err
	}
	if found {
		if site == "" {
			site = sent.Site
		}
		if sent.Site == site && sent.ContactID != "" && e.Single {
			return site, sent.ContactID, true, nil
		}
	}
	if site == "" || e.Recipient == "" {
		return "", "", false, nil
	}
	_, key := contacts.NormalizeEmail(e.Recipient)
	id, found, err := in.Store.ContactIDByEmail(ctx, site, key)
	if err != nil || !found {
		return "", "", false, err
	}
	return site, id, true, nil
}
