package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
)

// AddNote stores a note if the contact exists, in one transaction, so a note
// can never outlive a contact deleted at the same moment.
func (s *Store) AddNote(ctx context.Context, site, contactID string, n contacts.Note) error {
	exists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name("PK"))))
	item := noteItem{
		PK: contactPK(site, contactID), SK: noteSK(n.ID), Type: "note", ID: n.ID, Body: n.Body,
		AuthorEmail: n.AuthorEmail, AuthorRole: n.AuthorRole, AuthorSub: n.AuthorSub, CreatedAt: formatTime(n.CreatedAt),
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(contactPK(site, contactID), skProfile),
			ConditionExpression: exists.Condition(), ExpressionAttributeNames: exists.Names()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(item)}},
	}})
	if reasons := cancelReasons(err); reasons != nil && failed(reasons, 0) {
		return apperr.ErrContactNotFound
	}
	if err != nil {
		return apperr.Wrap(err, "add note")
	}
	return nil
}

// ListNotes pages through a contact's notes, newest first.
func (s *Store) ListNotes(ctx context.Context, site, contactID string, limit int, cursor string) (contacts.Page[contacts.Note], error) {
	start, err := decodeCursor(cursor, site, "notes")
	if err != nil {
		return contacts.Page[contacts.Note]{}, err
	}
	pk := contactPK(site, contactID)
	expr := mustBuild(expression.NewBuilder().WithKeyCondition(
		expression.Key("PK").Equal(expression.Value(pk)).And(expression.Key("SK").BeginsWith(skNotePre))))
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start,
	})
	if err != nil {
		return contacts.Page[contacts.Note]{}, apperr.Wrap(err, "list notes")
	}
	if len(out.Items) == 0 && start == nil {
		if _, err := s.GetContact(ctx, site, contactID); err != nil {
			return contacts.Page[contacts.Note]{}, err
		}
	}
	page := contacts.Page[contacts.Note]{Items: make([]contacts.Note, 0, len(out.Items))}
	for _, item := range out.Items {
		var n noteItem
		if err := attributevalue.UnmarshalMap(item, &n); err != nil {
			return contacts.Page[contacts.Note]{}, apperr.Wrap(err, "decode note")
		}
		page.Items = append(page.Items, n.note())
	}
	page.Next = encodeCursor(site, "notes", out.LastEvaluatedKey)
	return page, nil
}

// DeleteNote removes one note; a note that is not there is not found.
func (s *Store) DeleteNote(ctx context.Context, site, contactID, noteID string) error {
	exists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name("PK"))))
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(contactPK(site, contactID), noteSK(noteID)),
		ConditionExpression: exists.Condition(), ExpressionAttributeNames: exists.Names(),
	})
	if isConditionFailed(err) {
		return apperr.ErrNoteNotFound
	}
	if err != nil {
		return apperr.Wrap(err, "delete note")
	}
	return nil
}
