// Package emailevents turns SES notifications into lifecycle entries and
// subscription changes on the right profile. It reads both SES shapes
// (identity notifications with notificationType, configuration-set events
// with eventType), raw or inside an SNS envelope, and finds the contact from
// the message tags, then from the messages this product sent, then from the
// recipient address within the site.
package emailevents

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event types, as lifecycle entry types.
const (
	TypeSent            = "email_sent"
	TypeDelivered       = "email_delivered"
	TypeOpened          = "email_opened"
	TypeClicked         = "email_clicked"
	TypeBounced         = "email_bounced"
	TypeComplained      = "email_complained"
	TypeUnsubscribed    = "email_unsubscribed"
	TypePreferences     = "email_preferences_changed"
	TypeRejected        = "email_rejected"
	TypeDelayed         = "email_delayed"
	TypeRenderingFailed = "email_rendering_failed"
)

// Event is one thing that happened to one recipient of one message.
type Event struct {
	ID        string // deterministic: the same notification gives the same id
	Type      string
	MessageID string
	Recipient string
	At        time.Time
	Site      string // from the message tags, if any
	ContactID string // from the message tags, if any
	Campaign  string
	Kind      string // broadcast, sequence or transactional
	// Single is true when the message had one recipient, so its contact tag
	// names this recipient.
	Single          bool
	Detail          map[string]string
	PermanentBounce bool
	Unsubscribe     string // reason, when the event unsubscribes
}

// Unsubscribe reasons shown on the profile.
const (
	ReasonMarkedSpam = "marked spam"
	ReasonBounced    = "bounced"
	ReasonOptedOut   = "opted out"
)

// snsEnvelope is the part of an SNS message the ingest needs.
type snsEnvelope struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// notification covers both SES shapes; unknown fields are ignored.
type notification struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		Timestamp   string              `json:"timestamp"`
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         string      `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []recipient `json:"complainedRecipients"`
		Timestamp             string      `json:"timestamp"`
		ComplaintFeedbackType string      `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients []string `json:"recipients"`
		Timestamp  string   `json:"timestamp"`
	} `json:"delivery"`
	Open *struct {
		Timestamp string `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		Timestamp string `json:"timestamp"`
		Link      string `json:"link"`
	} `json:"click"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
	DeliveryDelay *struct {
		Timestamp         string      `json:"timestamp"`
		DelayType         string      `json:"delayType"`
		DelayedRecipients []recipient `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
	Failure *struct {
		TemplateName string `json:"templateName"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"failure"`
	Subscription *struct {
		Timestamp           string `json:"timestamp"`
		NewTopicPreferences struct {
			UnsubscribeAll bool `json:"unsubscribeAll"`
		} `json:"newTopicPreferences"`
	} `json:"subscription"`
}

// ErrUnparsable marks a message that is not an SES notification at all.
var ErrUnparsable = errors.New("not an SES notification")

// Parse reads one SQS message body: an SNS envelope around an SES
// notification, or the notification itself. It returns one event per
// recipient the notification concerns. Notifications of types this product
// does not record (an SNS SubscriptionConfirmation, say) give no events.
func Parse(body []byte) ([]Event, error) {
	var env snsEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparsable, err)
	}
	switch env.Type {
	case "Notification":
		body = []byte(env.Message)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		return nil, nil
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparsable, err)
	}
	typ := n.EventType
	if typ == "" {
		typ = n.NotificationType
	}
	if typ == "" || n.Mail.MessageID == "" {
		return nil, fmt.Errorf("%w: no eventType/notificationType or messageId", ErrUnparsable)
	}
	mailAt, err := parseTime(n.Mail.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("%w: mail.timestamp: %v", ErrUnparsable, err)
	}
	base := Event{
		MessageID: n.Mail.MessageID,
		Site:      tag(n.Mail.Tags, "site"),
		ContactID: tag(n.Mail.Tags, "contact"),
		Campaign:  tag(n.Mail.Tags, "campaign"),
		Kind:      tag(n.Mail.Tags, "campaign_kind"),
		Single:    len(n.Mail.Destination) == 1,
	}
	var (
		recipients = n.Mail.Destination
		stamp      string
		detail     = map[string]string{}
	)
	switch typ {
	case "Send":
		base.Type = TypeSent
	case "Delivery":
		base.Type = TypeDelivered
		if n.Delivery != nil {
			recipients, stamp = n.Delivery.Recipients, n.Delivery.Timestamp
		}
	case "Open":
		base.Type = TypeOpened
		if n.Open != nil {
			stamp = n.Open.Timestamp
		}
	case "Click":
		base.Type = TypeClicked
		if n.Click != nil {
			stamp, detail["link"] = n.Click.Timestamp, n.Click.Link
		}
	case "Bounce":
		base.Type = TypeBounced
		if n.Bounce == nil {
			return nil, fmt.Errorf("%w: Bounce without bounce", ErrUnparsable)
		}
		recipients, stamp = addresses(n.Bounce.BouncedRecipients), n.Bounce.Timestamp
		detail["bounceType"], detail["bounceSubType"] = n.Bounce.BounceType, n.Bounce.BounceSubType
		base.PermanentBounce = n.Bounce.BounceType == "Permanent"
	case "Complaint":
		base.Type, base.Unsubscribe = TypeComplained, ReasonMarkedSpam
		if n.Complaint != nil {
			recipients, stamp = addresses(n.Complaint.ComplainedRecipients), n.Complaint.Timestamp
			if n.Complaint.ComplaintFeedbackType != "" {
				detail["feedbackType"] = n.Complaint.ComplaintFeedbackType
			}
		}
	case "Subscription":
		base.Type = TypePreferences
		if n.Subscription != nil {
			stamp = n.Subscription.Timestamp
			if n.Subscription.NewTopicPreferences.UnsubscribeAll {
				base.Type, base.Unsubscribe = TypeUnsubscribed, ReasonOptedOut
			}
		}
	case "Reject":
		base.Type = TypeRejected
		if n.Reject != nil {
			detail["reason"] = n.Reject.Reason
		}
	case "DeliveryDelay":
		base.Type = TypeDelayed
		if n.DeliveryDelay != nil {
			recipients, stamp = addresses(n.DeliveryDelay.DelayedRecipients), n.DeliveryDelay.Timestamp
			detail["delayType"] = n.DeliveryDelay.DelayType
		}
	case "Rendering Failure":
		base.Type = TypeRenderingFailed
		if n.Failure != nil {
			detail["template"] = n.Failure.TemplateName
		}
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrUnparsable, typ)
	}
	at := mailAt
	if stamp != "" {
		if at, err = parseTime(stamp); err != nil {
			return nil, fmt.Errorf("%w: %s timestamp: %v", ErrUnparsable, typ, err)
		}
	}
	base.At = at
	if base.Campaign != "" {
		detail["campaign"] = base.Campaign
	}
	if base.Kind != "" {
		detail["campaignKind"] = base.Kind
	}
	detail["messageId"] = base.MessageID
	out := make([]Event, 0, len(recipients))
	for _, r := range recipients {
		e := base
		e.Recipient = strings.TrimSpace(r)
		e.Detail = make(map[string]string, len(detail))
		for k, v := range detail {
			if v != "" {
				e.Detail[k] = v
			}
		}
		e.ID = eventID(e, stamp)
		out = append(out, e)
	}
	return out, nil
}

func tag(tags map[string][]string, name string) string {
	if v := tags[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

func addresses(rs []recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.EmailAddress)
	}
	return out
}

// eventID is the same for every delivery of one notification about one
// recipient, and different for two opens or clicks of one message.
func eventID(e Event, stamp string) string {
	h := sha256.New()
	for _, part := range []string{e.MessageID, e.Type, strings.ToLower(e.Recipient), e.At.UTC().Format(time.RFC3339Nano), stamp, e.Detail["link"]} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "ses-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// timeLayouts are the timestamp forms seen in SES notifications, the odd
// ones included ("2026-11-21T11:00:00 +0000").
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05 -0700",
	"2006-01-02T15:04:05.000 -0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	time.RFC1123Z,
	time.RFC1123,
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}
