package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
)

// Store is the DynamoDB implementation of contacts.Store.
type Store struct {
	db    *dynamodb.Client
	table string
}

var _ contacts.Store = (*Store)(nil)

// New returns a store over the named table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table}
}

// maxTxRetries bounds the optimistic read-modify-write retries.
const maxTxRetries = 3

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

func mustMarshal(v any) map[string]types.AttributeValue {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(fmt.Sprintf("store: marshal %T: %v", v, err)) // only our own item structs reach here
	}
	return item
}

func mustBuild(b expression.Builder) expression.Expression {
	expr, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("store: build expression: %v", err)) // expressions are static in shape
	}
	return expr
}

// cancelReasons returns the per-item cancellation codes of a cancelled
// transaction, or nil when err is not a cancellation.
func cancelReasons(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	if len(codes) == 0 {
		codes = []string{"Unknown"}
	}
	return codes
}

func failed(reasons []string, i int) bool {
	return i < len(reasons) && reasons[i] == "ConditionalCheckFailed"
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// CreateContact stores the profile, its email claim, its tags and its first
// lifecycle entry in one transaction; a taken email cancels all of it.
func (s *Store) CreateContact(ctx context.Context, c contacts.Contact, added contacts.LifecycleEntry) error {
	notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(newProfileItem(c)),
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(claimItem{PK: emailClaimPK(c.Site, c.EmailKey), SK: skClaim, Type: "emailClaim", ContactID: c.ID}),
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(c.Site, c.ID, added))}},
	}
	for _, tag := range c.Tags {
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(newTagItem(c, tag))}},
			s.registryDelta(c.Site, tag, 1))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancelReasons(err); reasons != nil {
		if failed(reasons, 1) {
			return apperr.ErrEmailTaken
		}
		if failed(reasons, 0) {
			return apperr.New(apperr.Conflict, "contact_exists", "a contact with this id already exists")
		}
		return apperr.Wrap(err, "create contact")
	}
	if err != nil {
		return apperr.Wrap(err, "create contact")
	}
	return nil
}

func (s *Store) eventItem(site, contactID string, e contacts.LifecycleEntry) eventItem {
	at := formatTime(e.At)
	return eventItem{
		PK: contactPK(site, contactID), SK: eventSK(at, e.ID), Type: "event",
		ID: e.ID, EventType: e.Type, At: at, Detail: e.Detail, ExpiresAt: e.ExpiresAt.Unix(),
	}
}

// registryDelta adds delta to the site's count of contacts with tag.
func (s *Store) registryDelta(site, tag string, delta int64) types.TransactWriteItem {
	expr := mustBuild(expression.NewBuilder().WithUpdate(
		expression.Add(expression.Name("count"), expression.Value(delta)).
			Set(expression.Name("tag"), expression.Value(tag)).
			Set(expression.Name("type"), expression.Value("tagRegistry"))))
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(sitePK(site), tagSK(tag)),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

// GetContact reads the contact's profile item.
func (s *Store) GetContact(ctx context.Context, site, id string) (contacts.Contact, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(contactPK(site, id), skProfile), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "get contact")
	}
	if out.Item == nil {
		return contacts.Contact{}, apperr.ErrContactNotFound
	}
	var p profileItem
	if err := attributevalue.UnmarshalMap(out.Item, &p); err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "decode contact")
	}
	return p.contact(site), nil
}

// GetProfile reads a profile with two Query calls issued in parallel: the
// partition's non-lifecycle items, and its newest unexpired lifecycle entries.
func (s *Store) GetProfile(ctx context.Context, site, id string, lifecycleLimit int, now time.Time) (contacts.Profile, error) {
	pk := contactPK(site, id)
	var (
		wg        sync.WaitGroup
		rest      []map[string]types.AttributeValue
		events    []map[string]types.AttributeValue
		restErr   error
		eventsErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		expr := mustBuild(expression.NewBuilder().WithKeyCondition(
			expression.Key("PK").Equal(expression.Value(pk)).And(expression.Key("SK").GreaterThan(expression.Value(skEventAfter)))))
		p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				restErr = err
				return
			}
			rest = append(rest, out.Items...)
		}
	}()
	go func() {
		defer wg.Done()
		events, eventsErr = s.queryLifecycle(ctx, pk, lifecycleLimit, now)
	}()
	wg.Wait()
	if err := errors.Join(restErr, eventsErr); err != nil {
		return contacts.Profile{}, apperr.Wrap(err, "read profile")
	}
	var prof contacts.Profile
	found := false
	prof.Notes = []contacts.Note{}
	for _, item := range rest {
		sk := item["SK"].(*types.AttributeValueMemberS).Value
		switch {
		case sk == skProfile:
			var p profileItem
			if err := attributevalue.UnmarshalMap(item, &p); err != nil {
				return contacts.Profile{}, apperr.Wrap(err, "decode profile")
			}
			prof.Contact = p.contact(site)
			prof.NetRevenue = revenue(item)
			found = true
		case strings.HasPrefix(sk, skNotePre):
			var n noteItem
			if err := attributevalue.UnmarshalMap(item, &n); err != nil {
				return contacts.Profile{}, apperr.Wrap(err, "decode note")
			}
			prof.Notes = append(prof.Notes, n.note())
		case strings.HasPrefix(sk, skPurchase):
			var it purchaseItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return contacts.Profile{}, apperr.Wrap(err, "decode purchase")
			}
			prof.Purchases = append(prof.Purchases, it.purchase())
		case strings.HasPrefix(sk, skProduct):
			var it productItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return contacts.Profile{}, apperr.Wrap(err, "decode product")
			}
			if len(it.Sources) > 0 { // owned while an active purchase or grant backs it
				prof.ProductsOwned = append(prof.ProductsOwned, contacts.Product{ID: it.ProductID, Title: it.Title})
			}
		}
	}
	if !found {
		return contacts.Profile{}, apperr.ErrContactNotFound
	}
	slices.Reverse(prof.Notes)     // newest first: note ids sort by time
	slices.Reverse(prof.Purchases) // likewise purchase ids
	if prof.Purchases == nil {
		prof.Purchases = []contacts.Purchase{}
	}
	if prof.ProductsOwned == nil {
		prof.ProductsOwned = []contacts.Product{}
	}
	prof.Lifecycle = make([]contacts.LifecycleEntry, 0, len(events))
	for _, item := range events {
		var e eventItem
		if err := attributevalue.UnmarshalMap(item, &e); err != nil {
			return contacts.Profile{}, apperr.Wrap(err, "decode lifecycle entry")
		}
		prof.Lifecycle = append(prof.Lifecycle, e.entry())
	}
	return prof, nil
}

// queryLifecycle reads the newest lifecycle entries of a partition that
// have not expired at now. DynamoDB deletes expired items only eventually,
// so the filter is what guarantees an expired entry is never shown.
func (s *Store) queryLifecycle(ctx context.Context, pk string, limit int, now time.Time) ([]map[string]types.AttributeValue, error) {
	expr := mustBuild(expression.NewBuilder().
		WithKeyCondition(expression.Key("PK").Equal(expression.Value(pk)).And(expression.Key("SK").BeginsWith(skEventPre))).
		WithFilter(expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix()))))
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// UpdateContact writes the edited details if the stored version is still
// old.Version; when the email key changes, the old claim is released and the
// new one taken in the same transaction.
func (s *Store) UpdateContact(ctx context.Context, old, c contacts.Contact) error {
	update := expression.Set(expression.Name("email"), expression.Value(c.Email)).
		Set(expression.Name("emailKey"), expression.Value(c.EmailKey)).
		Set(expression.Name("GSI2SK"), expression.Value(c.EmailKey)).
		Set(expression.Name("name"), expression.Value(c.Name)).
		Set(expression.Name("version"), expression.Value(c.Version)).
		Set(expression.Name("updatedAt"), expression.Value(formatTime(c.UpdatedAt)))
	if c.Name != "" {
		update = update.Set(expression.Name("GSI3PK"), expression.Value(searchPK(c.Site))).
			Set(expression.Name("GSI3SK"), expression.Value(nameSK(nameKey(c.Name), c.ID)))
	} else {
		update = update.Remove(expression.Name("GSI3PK")).Remove(expression.Name("GSI3SK"))
	}
	update = setOrRemove(update, "phone", c.Phone)
	update = setOrRemove(update, "company", c.Company)
	if c.Address != nil {
		update = update.Set(expression.Name("address"), expression.Value(c.Address))
	} else {
		update = update.Remove(expression.Name("address"))
	}
	update = setOrRemove(update, "externalId", c.ExternalID)
	if c.EmailKey != old.EmailKey {
		// Bounces were the old address's: a new address starts clean.
		update = update.Remove(expression.Name("permBounceAt")).Remove(expression.Name("permBounces"))
	}
	cond := expression.Name("version").Equal(expression.Value(old.Version))
	expr := mustBuild(expression.NewBuilder().WithUpdate(update).WithCondition(cond))
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: key(contactPK(c.Site, c.ID), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}}
	// Each claim that moves: release the old one, take the new one. A
	// failed take at index i means the value belongs to someone else.
	taken := map[int]error{}
	move := func(oldPK, newPK string, claimType string, errTaken error) {
		if oldPK != "" {
			items = append(items, s.releaseClaim(oldPK, c.ID))
		}
		if newPK != "" {
			taken[len(items)] = errTaken
			items = append(items, s.takeClaim(newPK, claimType, c.ID))
		}
	}
	if c.EmailKey != old.EmailKey {
		move(emailClaimPK(c.Site, old.EmailKey), emailClaimPK(c.Site, c.EmailKey), "emailClaim", apperr.ErrEmailTaken)
	}
	if c.ExternalID != old.ExternalID {
		oldPK, newPK := "", ""
		if old.ExternalID != "" {
			oldPK = extClaimPK(c.Site, old.ExternalID)
		}
		if c.ExternalID != "" {
			newPK = extClaimPK(c.Site, c.ExternalID)
		}
		move(oldPK, newPK, "externalIdClaim", contacts.ErrExternalIDTaken)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancelReasons(err); reasons != nil {
		if failed(reasons, 0) {
			return apperr.ErrVersionMismatch
		}
		for i, errTaken := range taken {
			if failed(reasons, i) {
				return errTaken
			}
		}
		return apperr.Wrap(err, "update contact")
	}
	if err != nil {
		return apperr.Wrap(err, "update contact")
	}
	return nil
}

// takeClaim claims a unique value (email, external id) for a contact.
func (s *Store) takeClaim(pk, claimType, contactID string) types.TransactWriteItem {
	notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table,
		Item:                mustMarshal(claimItem{PK: pk, SK: skClaim, Type: claimType, ContactID: contactID}),
		ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}}
}

// releaseClaim deletes a claim if the contact still holds it.
func (s *Store) releaseClaim(pk, contactID string) types.TransactWriteItem {
	owned := mustBuild(expression.NewBuilder().WithCondition(expression.Name("contactId").Equal(expression.Value(contactID))))
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pk, skClaim),
		ConditionExpression: owned.Condition(), ExpressionAttributeNames: owned.Names(), ExpressionAttributeValues: owned.Values()}}
}

func setOrRemove(u expression.UpdateBuilder, name, value string) expression.UpdateBuilder {
	if value == "" {
		return u.Remove(expression.Name(name))
	}
	return u.Set(expression.Name(name), expression.Value(value))
}

// SetHidden hides or shows a contact in the Contacts list.
func (s *Store) SetHidden(ctx context.Context, site, id string, hidden bool, now time.Time) (contacts.Contact, error) {
	expr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("hidden"), expression.Value(hidden)).
			Set(expression.Name("updatedAt"), expression.Value(formatTime(now))).
			Add(expression.Name("version"), expression.Value(1))).
		WithCondition(expression.AttributeExists(expression.Name("PK")).And(expression.Name("hidden").NotEqual(expression.Value(hidden)))))
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(contactPK(site, id), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		// Missing (404), or already so: nothing to change, the ETag stays.
		return s.GetContact(ctx, site, id)
	}
	if err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "set hidden")
	}
	var p profileItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &p); err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "decode contact")
	}
	return p.contact(site), nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
