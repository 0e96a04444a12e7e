package store

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/retry"
)

// AddTag tags a contact: the tag joins the profile's tag set, the contact
// joins the tag's segment and the site's count for the tag goes up, in one
// transaction guarded by the profile's version. Tagging twice is a no-op.
func (s *Store) AddTag(ctx context.Context, site, contactID, tag string, now time.Time) (contacts.Contact, error) {
	return s.retagLoop(ctx, site, contactID, func(c contacts.Contact) (contacts.Contact, []types.TransactWriteItem, error) {
		if slices.Contains(c.Tags, tag) {
			return c, nil, nil
		}
		if len(c.Tags) >= contacts.MaxTagsPerContact {
			return c, nil, apperr.New(apperr.Conflict, "too_many_tags", "a contact can carry at most 40 tags")
		}
		c.Tags = sortedCopy(append(c.Tags, tag))
		c.Version, c.UpdatedAt = c.Version+1, now
		return c, []types.TransactWriteItem{
			s.tagSetUpdate(c, now, expression.Add(expression.Name("tags"), expression.Value(&types.AttributeValueMemberSS{Value: []string{tag}}))),
			{Put: &types.Put{TableName: &s.table, Item: mustMarshal(newTagItem(c, tag))}},
			s.registryDelta(site, tag, 1),
		}, nil
	})
}

// RemoveTag untags a contact; removing a tag it does not carry is a no-op.
func (s *Store) RemoveTag(ctx context.Context, site, contactID, tag string, now time.Time) (contacts.Contact, error) {
	return s.retagLoop(ctx, site, contactID, func(c contacts.Contact) (contacts.Contact, []types.TransactWriteItem, error) {
		i := slices.Index(c.Tags, tag)
		if i < 0 {
			return c, nil, nil
		}
		c.Tags = slices.Delete(slices.Clone(c.Tags), i, i+1)
		c.Version, c.UpdatedAt = c.Version+1, now
		return c, []types.TransactWriteItem{
			s.tagSetUpdate(c, now, expression.Delete(expression.Name("tags"), expression.Value(&types.AttributeValueMemberSS{Value: []string{tag}}))),
			{Delete: &types.Delete{TableName: &s.table, Key: key(contactPK(site, contactID), tagSK(tag))}},
			s.registryDelta(site, tag, -1),
		}, nil
	})
}

// retagLoop reads the contact, lets change compute the writes, and commits
// them on the version it read, retrying a few times if the contact moved.
func (s *Store) retagLoop(ctx context.Context, site, contactID string,
	change func(contacts.Contact) (contacts.Contact, []types.TransactWriteItem, error)) (contacts.Contact, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.GetContact(ctx, site, contactID)
		if err != nil {
			return contacts.Contact{}, err
		}
		next, items, err := change(c)
		if err != nil || items == nil {
			return next, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancelReasons(err)
		if reasons != nil && failed(reasons, 0) && attempt < 8 {
			if err := retry.Backoff(ctx, attempt); err != nil {
				return contacts.Contact{}, err
			}
			continue // the contact changed under us: read it again
		}
		if reasons != nil && failed(reasons, 0) {
			return contacts.Contact{}, apperr.ErrVersionMismatch
		}
		if err != nil {
			return contacts.Contact{}, apperr.Wrap(err, "change tags")
		}
		return next, nil
	}
}

// tagSetUpdate changes the profile's tag set if its version is still the
// one before c's, moving it to c's.
func (s *Store) tagSetUpdate(c contacts.Contact, now time.Time, change expression.UpdateBuilder) types.TransactWriteItem {
	expr := mustBuild(expression.NewBuilder().
		WithUpdate(change.Set(expression.Name("version"), expression.Value(c.Version)).
			Set(expression.Name("updatedAt"), expression.Value(formatTime(now)))).
		WithCondition(expression.Name("version").Equal(expression.Value(c.Version - 1))))
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(contactPK(c.Site, c.ID), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

// ListTags returns the site's tags carried by at least one contact, with counts.
func (s *Store) ListTags(ctx context.Context, site string) ([]contacts.TagCount, error) {
	expr := mustBuild(expression.NewBuilder().WithKeyCondition(
		expression.Key("PK").Equal(expression.Value(sitePK(site))).And(expression.Key("SK").BeginsWith(skTagPre))))
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	tags := []contacts.TagCount{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, "list tags")
		}
		var items []registryItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, apperr.Wrap(err, "decode tags")
		}
		for _, it := range items {
			if it.Count > 0 {
				tags = append(tags, contacts.TagCount{Tag: it.Tag, Count: it.Count})
			}
		}
	}
	return tags, nil
}
