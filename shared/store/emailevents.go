package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/emailevents"
)

var _ emailevents.Store = (*Store)(nil)

// sentMessageRetention is how long a sent message's record finds its
// contact: SES reports bounces and complaints within days.
const sentMessageRetention = 30 * 24 * time.Hour

// sentMessageItem remembers a message this product sent, by SES message id.
type sentMessageItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	MessageID string `dynamodbav:"messageId"`
	Site      string `dynamodbav:"site"`
	ContactID string `dynamodbav:"contactId"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// RecordSentMessage remembers a message sent to a contact: the global
// record events look up, and a pointer in the contact's partition so that
// deleting the contact deletes the record too.
func (s *Store) RecordSentMessage(ctx context.Context, m emailevents.SentMessage, at time.Time) error {
	expires := at.Add(sentMessageRetention).Unix()
	record := sentMessageItem{PK: sentMessagePK(m.MessageID), SK: skMessage, Type: "sentMessage", MessageID: m.MessageID, Site: m.Site, ContactID: m.ContactID, ExpiresAt: expires}
	pointer := sentMessageItem{PK: contactPK(m.Site, m.ContactID), SK: sentSK(m.MessageID), Type: "sentPointer", MessageID: m.MessageID, Site: m.Site, ContactID: m.ContactID, ExpiresAt: expires}
	_, err := s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(record)}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(pointer)}},
	})
	if err != nil {
		return apperr.Wrap(err, "record sent message")
	}
	return nil
}

// SentMessage finds a message this product sent.
func (s *Store) SentMessage(ctx context.Context, messageID string) (emailevents.SentMessage, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(sentMessagePK(messageID), skMessage)})
	if err != nil {
		return emailevents.SentMessage{}, false, apperr.Wrap(err, "read sent message")
	}
	if out.Item == nil {
		return emailevents.SentMessage{}, false, nil
	}
	var it sentMessageItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return emailevents.SentMessage{}, false, apperr.Wrap(err, "decode sent message")
	}
	return emailevents.SentMessage{MessageID: it.MessageID, Site: it.Site, ContactID: it.ContactID}, true, nil
}

// ContactIDByEmail finds a site's contact by normalized email.
func (s *Store) ContactIDByEmail(ctx context.Context, site, emailKey string) (string, bool, error) {
	c, err := s.lookupClaim(ctx, emailClaimPK(site, emailKey))
	if err != nil {
		return "", false, err
	}
	return c.ContactID, c.ContactID != "", nil
}

// ApplyEmailEvent writes an email event's lifecycle entry and its effect on
// the subscription in one transaction. The entry's key is deterministic and
// written only if absent, so a redelivered event cancels the transaction
// and changes nothing, bounce counts included. The profile update is
// guarded by the bounce state it was computed from.
func (s *Store) ApplyEmailEvent(ctx context.Context, site, contactID string, e contacts.LifecycleEntry, effect emailevents.Effect) (bool, error) {
	pk := contactPK(site, contactID)
	if effect.Unsubscribe == "" && !effect.PermanentBounce {
		// Most events (sent, delivered, opened, clicked) only add an entry:
		// one request, which also checks the contact exists.
		return s.putEmailEvent(ctx, site, contactID, e, nil)
	}
	for attempt := 0; ; attempt++ {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, skProfile), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("subStatus, permBounceAt")})
		if err != nil {
			return false, apperr.Wrap(err, "read subscription")
		}
		if out.Item == nil {
			return false, apperr.ErrContactNotFound
		}
		var state struct {
			SubStatus    string `dynamodbav:"subStatus"`
			PermBounceAt string `dynamodbav:"permBounceAt"`
		}
		if err := attributevalue.UnmarshalMap(out.Item, &state); err != nil {
			return false, apperr.Wrap(err, "decode subscription")
		}
		update, changes := emailEffect(state.SubStatus, state.PermBounceAt, effect)
		var guard *profileGuard
		if changes {
			// Computed from this state: apply only if it still holds.
			guard = &profileGuard{update: update, status: state.SubStatus, lastBounce: state.PermBounceAt}
		}
		applied, err := s.putEmailEvent(ctx, site, contactID, e, guard)
		if errors.Is(err, errStateMoved) && attempt < maxTxRetries {
			continue // the subscription moved: look again
		}
		if errors.Is(err, errStateMoved) {
			return false, apperr.ErrContactNotFound
		}
		return applied, err
	}
}

// profileGuard is a profile update valid only for the state it was computed from.
type profileGuard struct {
	update             expression.UpdateBuilder
	status, lastBounce string
}

var errStateMoved = errors.New("subscription state moved")

// putEmailEvent writes the entry if absent, with the guarded profile update
// or, without one, a check that the contact exists: one request.
func (s *Store) putEmailEvent(ctx context.Context, site, contactID string, e contacts.LifecycleEntry, guard *profileGuard) (bool, error) {
	pk := contactPK(site, contactID)
	notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, contactID, e)),
		ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}}}
	cond := expression.AttributeExists(expression.Name("PK"))
	if guard == nil {
		expr := mustBuild(expression.NewBuilder().WithCondition(cond))
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(pk, skProfile),
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names()}})
	} else {
		seen := expression.AttributeNotExists(expression.Name("permBounceAt"))
		if guard.lastBounce != "" {
			seen = expression.Name("permBounceAt").Equal(expression.Value(guard.lastBounce))
		}
		cond = cond.And(expression.Name("subStatus").Equal(expression.Value(guard.status)), seen)
		expr := mustBuild(expression.NewBuilder().WithUpdate(guard.update).WithCondition(cond))
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, skProfile),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}})
	}
	reasons, err := s.transact(ctx, items)
	switch {
	case failed(reasons, 0):
		return false, nil // recorded before: a redelivery
	case failed(reasons, 1) && guard == nil:
		return false, apperr.ErrContactNotFound
	case failed(reasons, 1):
		return false, errStateMoved
	case err != nil:
		return false, apperr.Wrap(err, "record email event")
	}
	return true, nil
}

// emailEffect computes the profile update an email event makes, given the
// subscription status and the last permanent bounce time it was seen with.
func emailEffect(status, lastBounce string, effect emailevents.Effect) (expression.UpdateBuilder, bool) {
	var update expression.UpdateBuilder
	changes := false
	unsubscribe := effect.Unsubscribe
	if effect.PermanentBounce {
		at := formatTime(effect.At)
		if lastBounce != "" {
			prev := parseTime(lastBounce)
			if d := effect.At.Sub(prev); d <= emailevents.BounceWindow && d >= -emailevents.BounceWindow && unsubscribe == "" {
				unsubscribe = emailevents.ReasonBounced
			}
			if lastBounce > at {
				at = lastBounce // keep the latest bounce when events arrive out of order
			}
		}
		update = update.Set(expression.Name("permBounceAt"), expression.Value(at)).Add(expression.Name("permBounces"), expression.Value(1))
		changes = true
	}
	if unsubscribe != "" && status != contacts.Unsubscribed {
		update = update.Set(expression.Name("subStatus"), expression.Value(contacts.Unsubscribed)).
			Set(expression.Name("subReason"), expression.Value(unsubscribe)).
			Set(expression.Name("subAt"), expression.Value(formatTime(effect.At)))
		changes = true
	}
	return update, changes
}
