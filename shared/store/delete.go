package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
)

// DeleteContact removes a contact permanently: every item of its partition
// (notes, lifecycle, tags, profile), its email claim and its share of the
// site's tag counts.
//
// The order makes it safe to retry and leaves nothing behind:
//  1. the partition's dependent items (notes, lifecycle) go in batches, while
//     the profile still stands, so an interrupted delete can be retried;
//  2. one transaction removes the profile, its claim, its tag items and their
//     counts, guarded by the version read, so the contact vanishes at once;
//  3. a last sweep removes anything written between 1 and 2. Writes after 2
//     fail, since they require the profile to exist.
func (s *Store) DeleteContact(ctx context.Context, site, id string) error {
	pk := contactPK(site, id)
	for attempt := 0; ; attempt++ {
		c, err := s.GetContact(ctx, site, id)
		if err != nil {
			return err
		}
		if err := s.sweepPartition(ctx, site, pk, true); err != nil {
			return err
		}
		versionIs := mustBuild(expression.NewBuilder().WithCondition(expression.Name("version").Equal(expression.Value(c.Version))))
		owned := mustBuild(expression.NewBuilder().WithCondition(expression.Name("contactId").Equal(expression.Value(id))))
		items := []types.TransactWriteItem{
			{Delete: &types.Delete{TableName: &s.table, Key: key(pk, skProfile),
				ConditionExpression: versionIs.Condition(), ExpressionAttributeNames: versionIs.Names(), ExpressionAttributeValues: versionIs.Values()}},
			{Delete: &types.Delete{TableName: &s.table, Key: key(emailClaimPK(site, c.EmailKey), skClaim),
				ConditionExpression: owned.Condition(), ExpressionAttributeNames: owned.Names(), ExpressionAttributeValues: owned.Values()}},
		}
		if c.ExternalID != "" {
			items = append(items, s.releaseClaim(extClaimPK(site, c.ExternalID), id))
		}
		for _, tag := range c.Tags {
			items = append(items,
				types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pk, tagSK(tag))}},
				s.registryDelta(site, tag, -1))
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancelReasons(err)
		if reasons != nil && failed(reasons, 0) && attempt < maxTxRetries {
			continue // edited or deleted meanwhile: look again
		}
		if reasons != nil && failed(reasons, 0) {
			return apperr.ErrVersionMismatch
		}
		if err != nil {
			return apperr.Wrap(err, "delete contact")
		}
		return s.sweepPartition(ctx, site, pk, false)
	}
}

// sweepPartition deletes the items of a contact's partition in batches of
// 25, with the order and purchase claims its purchases hold. With keepCore
// it leaves the profile and tag items (the transaction's part); otherwise it
// deletes everything left.
func (s *Store) sweepPartition(ctx context.Context, site, pk string, keepCore bool) error {
	expr := mustBuild(expression.NewBuilder().
		WithKeyCondition(expression.Key("PK").Equal(expression.Value(pk))).
		WithProjection(expression.NamesList(expression.Name("PK"), expression.Name("SK"), expression.Name("orderId"), expression.Name("id"))))
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var batch []types.WriteRequest
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(err, "list contact items")
		}
		for _, item := range out.Items {
			sk := item["SK"].(*types.AttributeValueMemberS).Value
			if keepCore && (sk == skProfile || strings.HasPrefix(sk, skTagPre)) {
				continue
			}
			doomed := []map[string]types.AttributeValue{key(pk, sk)}
			if strings.HasPrefix(sk, skPurchase) {
				if id, ok := item["id"].(*types.AttributeValueMemberS); ok {
					doomed = append(doomed, key(purchaseClaimPK(site, id.Value), skClaim))
				}
				if order, ok := item["orderId"].(*types.AttributeValueMemberS); ok && order.Value != "" {
					// The order claim becomes a tombstone naming nobody, so a
					// retried order cannot bring the deleted person back.
					batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: mustMarshal(orderTombstone{
						PK: orderClaimPK(site, order.Value), SK: skClaim, Type: "orderTombstone", ExpiresAt: time.Now().Add(orderTombstoneTTL).Unix()})}})
				}
			}
			if strings.HasPrefix(sk, skResetPre) {
				doomed = append(doomed, key(resetTokenPK(site, strings.TrimPrefix(sk, skResetPre)), skToken))
			}
			if strings.HasPrefix(sk, skSent) {
				doomed = append(doomed, key(sentMessagePK(strings.TrimPrefix(sk, skSent)), skMessage))
			}
			for _, k := range doomed {
				batch = append(batch, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
			}
			if len(batch) >= 23 { // room for one purchase's three keys
				if err := s.batchDelete(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		return s.batchDelete(ctx, batch)
	}
	return nil
}

// batchDelete writes one batch, resubmitting unprocessed items a bounded
// number of times.
func (s *Store) batchDelete(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.table: reqs}
	for attempt := 0; attempt < 8 && len(pending[s.table]) > 0; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return apperr.Wrap(err, "delete contact items")
		}
		pending = out.UnprocessedItems
	}
	if n := len(pending[s.table]); n > 0 {
		return apperr.Wrap(fmt.Errorf("%d items left unprocessed", n), "delete contact items")
	}
	return nil
}

// orderTombstone replaces a deleted customer's order claim: it names no one
// and expires after orderTombstoneTTL, long after any checkout retries.
type orderTombstone struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

const orderTombstoneTTL = 90 * 24 * time.Hour
