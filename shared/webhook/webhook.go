// Package webhook serves POST /webhooks/ses, the HTTPS endpoint Amazon SNS
// posts SES events to. It verifies every message (snsverify) and then:
//
//   - Notification: puts the request body, byte for byte, on the email-events
//     queue, whose consumer reads the SNS envelope as the SQS message body;
//   - SubscriptionConfirmation: GETs the SubscribeURL to confirm;
//   - UnsubscribeConfirmation: nothing more.
//
// Answers: 200 when done; 400 malformed_json / malformed_message for a body
// that is not an SNS message; 403 signature_invalid, topic_not_allowed,
// certificate_url_invalid, subscribe_url_invalid or message_too_old when
// verification fails; 413 body_too_large; 500 when the queue, the
// certificate host or the confirmation fails, so that SNS retries. The error
// returned to Lambda is always nil.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/httpapi"
	"github.com/creator-platform/contacts/shared/snsverify"
)

// Sender puts a message on the email-events queue (queue.Queue).
type Sender interface {
	Send(ctx context.Context, body string) error
}

// Doer sends an HTTP request (*http.Client, from snsverify.NewHTTPClient).
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// confirmTimeout bounds the GET of a SubscribeURL.
const confirmTimeout = 5 * time.Second

// Handler serves the SNS webhook.
type Handler struct {
	verifier *snsverify.Verifier
	queue    Sender
	client   Doer
}

// New returns the handler: messages are checked by verifier, notifications
// sent to queue, subscriptions confirmed through client.
func New(verifier *snsverify.Verifier, queue Sender, client Doer) *Handler {
	return &Handler{verifier: verifier, queue: queue, client: client}
}

// Handle is the Lambda entry point.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = httpapi.Error(ctx, apperr.Wrap(fmt.Errorf("panic: %v", r), "ses webhook")), nil
		}
	}()
	body, err := httpapi.BodyUpTo(req, httpapi.MaxSNSBodyBytes) // SNS messages reach 256 KiB
	if err != nil {
		return httpapi.Error(ctx, err), nil
	}
	msg, err := snsverify.Parse(body)
	if err != nil {
		slog.InfoContext(ctx, "sns message refused", "reason", err.Error())
		return httpapi.Error(ctx, parseError(err)), nil
	}
	if err := h.verifier.Verify(ctx, msg); err != nil {
		if errors.Is(err, snsverify.ErrCertificateUnavailable) {
			return httpapi.Error(ctx, apperr.Wrap(err, "the signing certificate could not be fetched")), nil
		}
		// The reason names the check that failed, never the message body.
		slog.InfoContext(ctx, "sns message refused", "type", msg.Type, "message_id", clip(msg.MessageID), "reason", err.Error())
		return httpapi.Error(ctx, verifyError(err)), nil
	}

	switch msg.Type {
	case snsverify.TypeNotification:
		if err := h.queue.Send(ctx, string(body)); err != nil {
			return httpapi.Error(ctx, apperr.Wrap(err, "forward notification")), nil
		}
	case snsverify.TypeSubscriptionConfirmation:
		if err := h.confirm(ctx, msg.SubscribeURL); err != nil {
			return httpapi.Error(ctx, apperr.Wrap(err, "confirm subscription")), nil
		}
	case snsverify.TypeUnsubscribeConfirmation:
		// Verified and acknowledged; SNS needs nothing else.
	}
	slog.InfoContext(ctx, "sns message accepted", "type", msg.Type, "message_id", msg.MessageID, "topic", msg.TopicArn)
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"}), nil
}

// confirm GETs a SubscribeURL that Verify has checked.
func (h *Handler) confirm(ctx context.Context, subscribeURL string) error {
	ctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("SubscribeURL answered %d", resp.StatusCode)
	}
	return nil
}

// clip bounds an unverified value before it is logged.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func parseError(err error) error {
	if errors.Is(err, snsverify.ErrMalformedMessage) {
		return apperr.New(apperr.Malformed, "malformed_message", "the body is not an SNS message")
	}
	return apperr.New(apperr.Malformed, "malformed_json", "the body is not one JSON object")
}

func verifyError(err error) error {
	switch {
	case errors.Is(err, snsverify.ErrTopicNotAllowed):
		return apperr.New(apperr.Forbidden, "topic_not_allowed", "messages from this topic are not accepted")
	case errors.Is(err, snsverify.ErrCertificateURL):
		return apperr.New(apperr.Forbidden, "certificate_url_invalid", "SigningCertURL is not an Amazon SNS certificate URL")
	case errors.Is(err, snsverify.ErrSubscribeURL):
		return apperr.New(apperr.Forbidden, "subscribe_url_invalid", "SubscribeURL is not an Amazon SNS confirmation URL for this topic")
	case errors.Is(err, snsverify.ErrTooOld):
		return apperr.New(apperr.Forbidden, "message_too_old", "the message is too old")
	default:
		return apperr.New(apperr.Forbidden, "signature_invalid", "the message signature does not verify")
	}
}
