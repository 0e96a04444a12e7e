package store

import (
	"context"
	"strings"
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

var _ contacts.PasswordStore = (*Store)(nil)

// resetTokenItem is a reset token, stored only as its SHA-256, found by it.
type resetTokenItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ContactID string `dynamodbav:"contactId"`
	TokenHash string `dynamodbav:"tokenHash"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// credentialItem holds a member's password hash; never returned by any read
// of the profile (its sort key sorts before the profile's range).
type credentialItem struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	Type         string `dynamodbav:"type"`
	PasswordHash string `dynamodbav:"passwordHash"`
	UpdatedAt    string `dynamodbav:"updatedAt"`
}

// isCustomer is the condition that a profile exists and is a customer's.
func isCustomer() expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name("PK")).And(expression.Name("kind").Equal(expression.Value(contacts.KindCustomer)))
}

// SaveResetToken stores a token's hash (global by hash, and a pointer in the
// contact's partition so that a completed reset or a delete finds every
// open token) with the lifecycle entry, if the contact is a customer.
func (s *Store) SaveResetToken(ctx context.Context, site, contactID, tokenHash string, expires time.Time, e contacts.LifecycleEntry) error {
	pk := contactPK(site, contactID)
	token := resetTokenItem{PK: resetTokenPK(site, tokenHash), SK: skToken, Type: "resetToken", ContactID: contactID, TokenHash: tokenHash, ExpiresAt: expires.Unix()}
	pointer := resetTokenItem{PK: pk, SK: resetSK(tokenHash), Type: "resetPointer", ContactID: contactID, TokenHash: tokenHash, ExpiresAt: expires.Unix()}
	customer := mustBuild(expression.NewBuilder().WithCondition(isCustomer()))
	reasons, err := s.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(pk, skProfile), ConditionExpression: customer.Condition(),
			ExpressionAttributeNames: customer.Names(), ExpressionAttributeValues: customer.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(token)}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(pointer)}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, contactID, e))}},
	})
	if failed(reasons, 0) {
		if _, err := s.GetContact(ctx, site, contactID); err != nil {
			return err
		}
		return contacts.ErrNotCustomer
	}
	if err != nil {
		return apperr.Wrap(err, "save reset token")
	}
	return nil
}

// openTokens lists the hashes of a contact's reset tokens.
func (s *Store) openTokens(ctx context.Context, pk string) ([]string, error) {
	expr := mustBuild(expression.NewBuilder().WithKeyCondition(
		expression.Key("PK").Equal(expression.Value(pk)).And(expression.Key("SK").BeginsWith(skResetPre))))
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var hashes []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, "list reset tokens")
		}
		for _, item := range out.Items {
			hashes = append(hashes, strings.TrimPrefix(item["SK"].(*types.AttributeValueMemberS).Value, skResetPre))
		}
	}
	return hashes, nil
}

// revokeTokens deletes tokens and their pointers: the transaction's items
// for up to max of them, the rest in batches.
func (s *Store) revokeTokens(ctx context.Context, site, pk string, hashes []string, max int) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	var rest []types.WriteRequest
	for i, h := range hashes {
		if i < max {
			items = append(items,
				types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(resetTokenPK(site, h), skToken)}},
				types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pk, resetSK(h))}})
			continue
		}
		rest = append(rest,
			types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(resetTokenPK(site, h), skToken)}},
			types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, resetSK(h))}})
	}
	for len(rest) > 0 {
		n := min(len(rest), 24)
		if err := s.batchDelete(ctx, rest[:n]); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return items, nil
}

// CompleteReset spends a token: the token must exist and be unexpired at
// now (DynamoDB's TTL deletes late); the token and every other open token of
// the person go in the same transaction as the new password hash.
func (s *Store) CompleteReset(ctx context.Context, site, tokenHash string, now time.Time, check func(contacts.Contact) error, passwordHash string, e contacts.LifecycleEntry) (contacts.Contact, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(resetTokenPK(site, tokenHash), skToken), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "read reset token")
	}
	var tok resetTokenItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &tok); err != nil {
			return contacts.Contact{}, apperr.Wrap(err, "decode reset token")
		}
	}
	if out.Item == nil || tok.ExpiresAt <= now.Unix() {
		return contacts.Contact{}, contacts.ErrInvalidToken
	}
	c, err := s.GetContact(ctx, site, tok.ContactID)
	if err != nil {
		return contacts.Contact{}, contacts.ErrInvalidToken
	}
	if err := check(c); err != nil {
		return contacts.Contact{}, err
	}
	pk := contactPK(site, tok.ContactID)
	others, err := s.openTokens(ctx, pk)
	if err != nil {
		return contacts.Contact{}, err
	}
	valid := mustBuild(expression.NewBuilder().WithCondition(
		expression.AttributeExists(expression.Name("PK")).And(expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix())))))
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(resetTokenPK(site, tokenHash), skToken),
			ConditionExpression: valid.Condition(), ExpressionAttributeNames: valid.Names(), ExpressionAttributeValues: valid.Values()}},
		{Delete: &types.Delete{TableName: &s.table, Key: key(pk, resetSK(tokenHash))}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(credentialItem{PK: pk, SK: skCredential, Type: "credential", PasswordHash: passwordHash, UpdatedAt: formatTime(now)})}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, tok.ContactID, e))}},
	}
	var rest []string
	for _, h := range others {
		if h != tokenHash {
			rest = append(rest, h)
		}
	}
	revoke, err := s.revokeTokens(ctx, site, pk, rest, 40)
	if err != nil {
		return contacts.Contact{}, err
	}
	reasons, err := s.transact(ctx, append(items, revoke...))
	switch {
	case failed(reasons, 0):
		return contacts.Contact{}, contacts.ErrInvalidToken // spent or expired meanwhile
	case err != nil:
		return contacts.Contact{}, apperr.Wrap(err, "complete reset")
	}
	return c, nil
}

// SetPassword stores a customer's password hash and revokes open tokens.
func (s *Store) SetPassword(ctx context.Context, site, contactID, passwordHash string, e contacts.LifecycleEntry) error {
	pk := contactPK(site, contactID)
	open, err := s.openTokens(ctx, pk)
	if err != nil {
		return err
	}
	revoke, err := s.revokeTokens(ctx, site, pk, open, 40)
	if err != nil {
		return err
	}
	customer := mustBuild(expression.NewBuilder().WithCondition(isCustomer()))
	items := append([]types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(pk, skProfile), ConditionExpression: customer.Condition(),
			ExpressionAttributeNames: customer.Names(), ExpressionAttributeValues: customer.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(credentialItem{PK: pk, SK: skCredential, Type: "credential", PasswordHash: passwordHash, UpdatedAt: formatTime(e.At)})}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, contactID, e))}},
	}, revoke...)
	reasons, err := s.transact(ctx, items)
	if failed(reasons, 0) {
		if _, err := s.GetContact(ctx, site, contactID); err != nil {
			return err
		}
		return contacts.ErrNotCustomer
	}
	if err != nil {
		return apperr.Wrap(err, "set password")
	}
	return nil
}

// PasswordHash returns a contact's stored password hash, "" when none.
func (s *Store) PasswordHash(ctx context.Context, site, contactID string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(contactPK(site, contactID), skCredential), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", apperr.Wrap(err, "read credential")
	}
	var c credentialItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
			return "", apperr.Wrap(err, "decode credential")
		}
	}
	return c.PasswordHash, nil
}

// Hit counts one attempt in a window, atomically: the count only goes up
// while below limit, so concurrent attempts cannot slip past it. The item
// expires (TTL) after its window.
func (s *Store) Hit(ctx context.Context, k string, start time.Time, window time.Duration, limit int) (bool, error) {
	expr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name("attempts"), expression.Value(1)).
			Set(expression.Name("expiresAt"), expression.Value(start.Add(window).Unix())).
			Set(expression.Name("type"), expression.Value("rateLimit"))).
		WithCondition(expression.AttributeNotExists(expression.Name("attempts")).Or(expression.Name("attempts").LessThan(expression.Value(limit)))))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(k, rateSK(start)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, apperr.Wrap(err, "count attempt")
	}
	return true, nil
}

// ClearHits forgets a key's attempts in a window (after a success).
func (s *Store) ClearHits(ctx context.Context, k string, start time.Time) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(k, rateSK(start))}); err != nil {
		return apperr.Wrap(err, "clear attempts")
	}
	return nil
}

// RememberSentMessage records a message this product sent to a contact.
func (s *Store) RememberSentMessage(ctx context.Context, site, contactID, messageID string, at time.Time) error {
	return s.RecordSentMessage(ctx, emailevents.SentMessage{MessageID: messageID, Site: site, ContactID: contactID}, at)
}

// siteSettingsItem holds a site's settings; url is its public address.
type siteSettingsItem struct {
	URL string `dynamodbav:"url"`
}

// SiteURL returns the site's configured URL, "" when none is configured.
func (s *Store) SiteURL(ctx context.Context, site string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(sitePK(site), skSettings)})
	if err != nil {
		return "", apperr.Wrap(err, "read site settings")
	}
	var st siteSettingsItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &st); err != nil {
			return "", apperr.Wrap(err, "decode site settings")
		}
	}
	return st.URL, nil
}

// SetSiteURL configures a site's public URL (the base of its links).
func (s *Store) SetSiteURL(ctx context.Context, site, url string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: sitePK(site)}, "SK": &types.AttributeValueMemberS{Value: skSettings},
		"type": &types.AttributeValueMemberS{Value: "siteSettings"}, "url": &types.AttributeValueMemberS{Value: url},
	}})
	if err != nil {
		return apperr.Wrap(err, "save site settings")
	}
	return nil
}
