package store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
)

// maxListRounds bounds the queries one list page may take when filters
// (hidden, search) drop items; a short page still carries a cursor.
const maxListRounds = 8

// Lists a cursor can resume; a search walks GSI2 (emails) then GSI3 (names).
const (
	listAll         = "contacts"
	listTag         = "tag"
	listSearchEmail = "search-email"
	listSearchName  = "search-name"
)

// indexKeys names the key attributes of each index, which a resume key from
// an item (not from LastEvaluatedKey) must carry.
var indexKeys = map[string][2]string{
	"GSI1": {"GSI1PK", "GSI1SK"},
	"GSI2": {"GSI2PK", "GSI2SK"},
	"GSI3": {"GSI3PK", "GSI3SK"},
}

// ListContacts returns one page of a site's contacts, newest first; by tag,
// newest first within the tag; by search, email matches then name matches.
func (s *Store) ListContacts(ctx context.Context, site string, q contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
	switch {
	case q.Tag != "":
		return s.listByTag(ctx, site, q)
	case q.Search != "":
		return s.search(ctx, site, q)
	default:
		return s.listIndex(ctx, site, q, listAll, "GSI1", expression.Key("GSI1PK").Equal(expression.Value(listPK(site))), false, nil)
	}
}

func (s *Store) search(ctx context.Context, site string, q contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
	list := listSearchEmail
	if q.Cursor != "" {
		// The cursor says which half of the walk it belongs to.
		if _, err := decodeCursor(q.Cursor, site, listSearchName); err == nil {
			list = listSearchName
		}
	}
	var page contacts.Page[contacts.Contact]
	if list == listSearchEmail {
		var err error
		page, err = s.listIndex(ctx, site, q, listSearchEmail, "GSI2",
			expression.Key("GSI2PK").Equal(expression.Value(searchPK(site))).And(expression.Key("GSI2SK").BeginsWith(q.Search)), true, nil)
		if err != nil || page.Next != nil {
			return page, err
		}
		q.Limit -= len(page.Items)
		q.Cursor = ""
		if q.Limit == 0 {
			// The email half is done; an empty name-half cursor resumes there.
			page.Next = encodeCursor(site, listSearchName, map[string]types.AttributeValue{
				"GSI3PK": &types.AttributeValueMemberS{Value: searchPK(site)},
				"GSI3SK": &types.AttributeValueMemberS{Value: q.Search},
				"PK":     &types.AttributeValueMemberS{Value: searchPK(site)},
				"SK":     &types.AttributeValueMemberS{Value: ""},
			})
			return page, nil
		}
	}
	// Name matches whose email also matched were listed in the email half.
	skipEmailMatches := func(c contacts.Contact) bool { return !strings.HasPrefix(c.EmailKey, q.Search) }
	names, err := s.listIndex(ctx, site, q, listSearchName, "GSI3",
		expression.Key("GSI3PK").Equal(expression.Value(searchPK(site))).And(expression.Key("GSI3SK").BeginsWith(q.Search)), true, skipEmailMatches)
	if err != nil {
		return page, err
	}
	page.Items = append(page.Items, names.Items...)
	if page.Items == nil {
		page.Items = []contacts.Contact{}
	}
	page.Next = names.Next
	return page, nil
}

// listIndex pages through profiles on an index, dropping hidden ones unless
// asked for and those keep rejects.
func (s *Store) listIndex(ctx context.Context, site string, q contacts.ListQuery, list, index string,
	keyCond expression.KeyConditionBuilder, ascending bool, keep func(contacts.Contact) bool) (contacts.Page[contacts.Contact], error) {
	start, err := decodeCursor(q.Cursor, site, list)
	if err != nil {
		return contacts.Page[contacts.Contact]{}, err
	}
	if start != nil && start["SK"] != nil && start["SK"].(*types.AttributeValueMemberS).Value == "" {
		start = nil // the empty resume point of the name half: start at its beginning
	}
	b := expression.NewBuilder().WithKeyCondition(keyCond)
	if filter, ok := listFilter(q); ok {
		b = b.WithFilter(filter)
	}
	expr := mustBuild(b)
	page := contacts.Page[contacts.Contact]{Items: []contacts.Contact{}}
	for round := 0; round < maxListRounds; round++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(index),
			KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ScanIndexForward: aws.Bool(ascending), Limit: aws.Int32(int32(q.Limit - len(page.Items))), ExclusiveStartKey: start,
		})
		if err != nil {
			return page, apperr.Wrap(err, "list contacts")
		}
		for i, item := range out.Items {
			var p profileItem
			if err := attributevalue.UnmarshalMap(item, &p); err != nil {
				return page, apperr.Wrap(err, "decode contact")
			}
			c := p.contact(site)
			if keep != nil && !keep(c) {
				continue
			}
			page.Items = append(page.Items, c)
			if len(page.Items) == q.Limit {
				if i < len(out.Items)-1 || out.LastEvaluatedKey != nil {
					page.Next = encodeCursor(site, list, resumeKey(item, index))
				}
				return page, nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		start = out.LastEvaluatedKey
	}
	page.Next = encodeCursor(site, list, start)
	return page, nil
}

// listByTag pages through a tag's segment (GSI1 on the tag's partition) and
// reads the page's profiles with one BatchGetItem per round.
func (s *Store) listByTag(ctx context.Context, site string, q contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
	start, err := decodeCursor(q.Cursor, site, listTag)
	if err != nil {
		return contacts.Page[contacts.Contact]{}, err
	}
	if start != nil && start["GSI1PK"].(*types.AttributeValueMemberS).Value != tagListPK(site, q.Tag) {
		return contacts.Page[contacts.Contact]{}, apperr.ErrInvalidCursor
	}
	expr := mustBuild(expression.NewBuilder().WithKeyCondition(expression.Key("GSI1PK").Equal(expression.Value(tagListPK(site, q.Tag)))))
	page := contacts.Page[contacts.Contact]{Items: []contacts.Contact{}}
	for round := 0; round < maxListRounds; round++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String("GSI1"),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(q.Limit - len(page.Items))), ExclusiveStartKey: start,
		})
		if err != nil {
			return page, apperr.Wrap(err, "list contacts by tag")
		}
		profiles, err := s.batchGetProfiles(ctx, site, out.Items)
		if err != nil {
			return page, err
		}
		for i, item := range out.Items {
			c, ok := profiles[item["contactId"].(*types.AttributeValueMemberS).Value]
			if !ok || !q.Matches(c) {
				continue
			}
			page.Items = append(page.Items, c)
			if len(page.Items) == q.Limit {
				if i < len(out.Items)-1 || out.LastEvaluatedKey != nil {
					page.Next = encodeCursor(site, listTag, resumeKey(item, "GSI1"))
				}
				return page, nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		start = out.LastEvaluatedKey
	}
	page.Next = encodeCursor(site, listTag, start)
	return page, nil
}

// batchGetProfiles reads the profiles the tag items name, by contact id.
func (s *Store) batchGetProfiles(ctx context.Context, site string, tagItems []map[string]types.AttributeValue) (map[string]contacts.Contact, error) {
	found := make(map[string]contacts.Contact, len(tagItems))
	if len(tagItems) == 0 {
		return found, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(tagItems))
	for _, item := range tagItems {
		keys = append(keys, key(item["PK"].(*types.AttributeValueMemberS).Value, skProfile))
	}
	pending := map[string]types.KeysAndAttributes{s.table: {Keys: keys}}
	for attempt := 0; attempt < 8 && len(pending[s.table].Keys) > 0; attempt++ {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, apperr.Wrap(err, "read tagged contacts")
		}
		var items []profileItem
		if err := attributevalue.UnmarshalListOfMaps(out.Responses[s.table], &items); err != nil {
			return nil, apperr.Wrap(err, "decode contacts")
		}
		for _, p := range items {
			found[p.ID] = p.contact(site)
		}
		pending = out.UnprocessedKeys
	}
	return found, nil
}

// resumeKey is the ExclusiveStartKey that resumes an index query after item.
func resumeKey(item map[string]types.AttributeValue, index string) map[string]types.AttributeValue {
	names := indexKeys[index]
	return map[string]types.AttributeValue{
		"PK": item["PK"], "SK": item["SK"], names[0]: item[names[0]], names[1]: item[names[1]],
	}
}

// listFilter is the query's filter (hidden, kind, recent activity) as a
// DynamoDB filter expression; it says the same as contacts.ListQuery.Matches.
func listFilter(q contacts.ListQuery) (expression.ConditionBuilder, bool) {
	var conds []expression.ConditionBuilder
	if !q.IncludeHidden {
		conds = append(conds, expression.Name("hidden").NotEqual(expression.Value(true)))
	}
	if q.Kind != "" {
		conds = append(conds, expression.Name("kind").Equal(expression.Value(string(q.Kind))))
	}
	if !q.ActiveSince.IsZero() {
		conds = append(conds, expression.Name("lastActivityAt").GreaterThanEqual(expression.Value(formatTime(q.ActiveSince))))
	}
	switch len(conds) {
	case 0:
		return expression.ConditionBuilder{}, false
	case 1:
		return conds[0], true
	default:
		return expression.And(conds[0], conds[1], conds[2:]...), true
	}
}
