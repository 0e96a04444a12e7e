package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/retry"
)

var _ contacts.CustomerStore = (*Store)(nil)

// transact runs a transaction, retrying (bounded, with jitter) when DynamoDB
// cancels it for a conflict with another transaction on the same items:
// concurrent purchases for one person all touch the profile's counters.
// It returns the cancellation reasons of a transaction whose conditions
// failed, and any other error.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) ([]string, error) {
	for attempt := 0; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancelReasons(err)
		if reasons == nil {
			return nil, err
		}
		conflict := false
		for _, r := range reasons {
			conflict = conflict || r == "TransactionConflict"
		}
		if !conflict || attempt >= 8 {
			return reasons, err
		}
		if err := retry.Backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// lookupClaim returns the contact id a claim item names, or "" when absent.
func (s *Store) lookupClaim(ctx context.Context, pk string) (claimItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, skClaim), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return claimItem{}, apperr.Wrap(err, "read claim")
	}
	var c claimItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
			return claimItem{}, apperr.Wrap(err, "decode claim")
		}
	}
	return c, nil
}

// RecordPurchase stores a purchase, idempotently on its order id: the order
// claim is written in the same transaction, so a retry either finds it (and
// answers the first purchase) or commits everything once.
func (s *Store) RecordPurchase(ctx context.Context, newContact contacts.Contact, p contacts.Purchase, e contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
	site := newContact.Site
	for attempt := 0; attempt < 4; attempt++ {
		emailClaim, err := s.lookupClaim(ctx, emailClaimPK(site, newContact.EmailKey))
		if err != nil {
			return contacts.Purchase{}, false, err
		}
		order := claimItem{PK: orderClaimPK(site, p.OrderID), SK: skClaim, Type: "orderClaim", PurchaseID: p.ID}
		var items []types.TransactWriteItem
		isNew := emailClaim.ContactID == ""
		if isNew {
			p.ContactID = newContact.ID
			c := newContact
			c.PurchasesCount = 1
			profile := mustMarshal(newProfileItem(c))
			profile[revenueAttr(p.Currency)] = &types.AttributeValueMemberN{Value: itoa(*p.Amount)}
			notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
			items = append(items,
				types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: profile,
					ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}},
				s.takeClaim(emailClaimPK(site, c.EmailKey), "emailClaim", c.ID))
		} else {
			p.ContactID = emailClaim.ContactID
			items = append(items, s.becomeCustomer(site, p, true))
		}
		order.ContactID = p.ContactID
		orderAt := len(items)
		notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(order),
				ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}})
		items = append(items, s.offerHeld(site, p, false))
		items = append(items, s.purchaseWrites(site, p, e)...)
		reasons, err := s.transact(ctx, items)
		switch {
		case reasons != nil && failed(reasons, orderAt):
			return s.purchaseByOrder(ctx, site, p.OrderID)
		case reasons != nil && (failed(reasons, 0) || failed(reasons, 1)):
			continue // the person was created or deleted meanwhile: look again
		case err != nil:
			return contacts.Purchase{}, false, apperr.Wrap(err, "record purchase")
		}
		return p, false, nil
	}
	return contacts.Purchase{}, false, apperr.New(apperr.Conflict, "contact_busy", "the contact changed repeatedly; retry the purchase")
}

// purchaseByOrder answers a retried order with the purchase it first made.
func (s *Store) purchaseByOrder(ctx context.Context, site, orderID string) (contacts.Purchase, bool, error) {
	claim, err := s.lookupClaim(ctx, orderClaimPK(site, orderID))
	if err != nil {
		return contacts.Purchase{}, false, err
	}
	if claim.Type == "orderTombstone" {
		return contacts.Purchase{}, false, contacts.ErrOrderDeleted
	}
	if claim.ContactID == "" {
		return contacts.Purchase{}, false, apperr.New(apperr.Conflict, "order_in_flight", "this order is being recorded; retry")
	}
	p, err := s.getPurchase(ctx, site, claim.ContactID, claim.PurchaseID)
	return p, true, err
}

func (s *Store) getPurchase(ctx context.Context, site, contactID, purchaseID string) (contacts.Purchase, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(contactPK(site, contactID), purchaseSK(purchaseID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return contacts.Purchase{}, apperr.Wrap(err, "read purchase")
	}
	if out.Item == nil {
		return contacts.Purchase{}, contacts.ErrPurchaseNotFound
	}
	var it purchaseItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contacts.Purchase{}, apperr.Wrap(err, "decode purchase")
	}
	return it.purchase(), nil
}

// becomeCustomer updates an existing profile for a new purchase or grant:
// customer from now on (the start date set once), one more purchase, and
// the amount added to the currency's net revenue.
func (s *Store) becomeCustomer(site string, p contacts.Purchase, paid bool) types.TransactWriteItem {
	at := formatTime(p.At)
	update := expression.Set(expression.Name("kind"), expression.Value(contacts.KindCustomer)).
		Set(expression.Name("customerSince"), expression.IfNotExists(expression.Name("customerSince"), expression.Value(at))).
		Add(expression.Name("purchasesCount"), expression.Value(1))
	if paid {
		update = update.Add(expression.Name(revenueAttr(p.Currency)), expression.Value(*p.Amount))
	}
	expr := mustBuild(expression.NewBuilder().WithUpdate(update).WithCondition(expression.AttributeExists(expression.Name("PK"))))
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(contactPK(site, p.ContactID), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

// purchaseWrites are the items every purchase or grant writes besides the
// profile: the record, the claim that finds it by id, the products and the
// offer it backs, and its lifecycle entry.
func (s *Store) purchaseWrites(site string, p contacts.Purchase, e contacts.LifecycleEntry) []types.TransactWriteItem {
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(newPurchaseItem(site, p))}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(claimItem{PK: purchaseClaimPK(site, p.ID), SK: skClaim, Type: "purchaseClaim", ContactID: p.ContactID, PurchaseID: p.ID})}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, p.ContactID, e))}},
	}
	source := expression.Value(&types.AttributeValueMemberSS{Value: []string{p.ID}})
	for _, prod := range p.Products {
		expr := mustBuild(expression.NewBuilder().WithUpdate(
			expression.Add(expression.Name("sources"), source).
				Set(expression.Name("productId"), expression.Value(prod.ID)).
				Set(expression.Name("title"), expression.Value(prod.Title)).
				Set(expression.Name("type"), expression.Value("product"))))
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key(contactPK(site, p.ContactID), productSK(prod.ID)),
			UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}})
	}
	return items
}

// offerHeld adds the purchase to the offer's active sources; for a grant,
// only if no active purchase or grant holds the offer yet.
func (s *Store) offerHeld(site string, p contacts.Purchase, exclusive bool) types.TransactWriteItem {
	b := expression.NewBuilder().WithUpdate(
		expression.Add(expression.Name("sources"), expression.Value(&types.AttributeValueMemberSS{Value: []string{p.ID}})).
			Set(expression.Name("offerId"), expression.Value(p.OfferID)).
			Set(expression.Name("type"), expression.Value("offer")))
	if exclusive {
		b = b.WithCondition(expression.AttributeNotExists(expression.Name("sources")))
	}
	expr := mustBuild(b)
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(contactPK(site, p.ContactID), offerSK(p.OfferID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}
}

// Grant gives an offer, unless the contact already holds it.
func (s *Store) Grant(ctx context.Context, site string, p contacts.Purchase, e contacts.LifecycleEntry) error {
	items := append([]types.TransactWriteItem{s.becomeCustomer(site, p, false), s.offerHeld(site, p, true)}, s.purchaseWrites(site, p, e)...)
	reasons, err := s.transact(ctx, items)
	switch {
	case failed(reasons, 0):
		return apperr.ErrContactNotFound
	case failed(reasons, 1):
		return contacts.ErrOfferHeld
	case err != nil:
		return apperr.Wrap(err, "grant offer")
	}
	return nil
}

// EndPurchase revokes a grant or cancels a purchase: the record stays, marked
// with who ended it; its products and offer lose this source.
func (s *Store) EndPurchase(ctx context.Context, site, contactID, purchaseID string, by contacts.Actor, e contacts.LifecycleEntry) (contacts.Purchase, error) {
	p, err := s.getPurchase(ctx, site, contactID, purchaseID)
	if err != nil {
		return contacts.Purchase{}, err
	}
	if p.Status != contacts.StatusActive {
		return contacts.Purchase{}, contacts.ErrAlreadyEnded
	}
	status, typ := contacts.StatusCancelled, contacts.EventCancelled
	if p.Kind == contacts.KindGrant {
		status, typ = contacts.StatusRevoked, contacts.EventRevoked
	}
	e.Type = typ
	e.Detail["offerId"], e.Detail["offerTitle"] = p.OfferID, p.OfferTitle
	endedAt := e.At
	expr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("status"), expression.Value(status)).
			Set(expression.Name("endedBy"), expression.Value(by)).
			Set(expression.Name("endedAt"), expression.Value(formatTime(endedAt)))).
		WithCondition(expression.Name("status").Equal(expression.Value(contacts.StatusActive))))
	pk := contactPK(site, contactID)
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key(pk, purchaseSK(purchaseID)),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, contactID, e))}},
	}
	release := mustBuild(expression.NewBuilder().WithUpdate(
		expression.Delete(expression.Name("sources"), expression.Value(&types.AttributeValueMemberSS{Value: []string{purchaseID}}))))
	keys := []string{offerSK(p.OfferID)}
	for _, prod := range p.Products {
		keys = append(keys, productSK(prod.ID))
	}
	for _, sk := range keys {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression: release.Update(), ExpressionAttributeNames: release.Names(), ExpressionAttributeValues: release.Values()}})
	}
	reasons, err := s.transact(ctx, items)
	switch {
	case failed(reasons, 0):
		return contacts.Purchase{}, contacts.ErrAlreadyEnded
	case err != nil:
		return contacts.Purchase{}, apperr.Wrap(err, "end purchase")
	}
	p.Status, p.EndedAt = status, &endedAt
	if status == contacts.StatusRevoked {
		p.RevokedBy = &by
	} else {
		p.CancelledBy = &by
	}
	return p, nil
}

// refundItem records one refund; its key makes a retried refund a no-op.
type refundItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	ID         string `dynamodbav:"id"`
	PurchaseID string `dynamodbav:"purchaseId"`
	ContactID  string `dynamodbav:"contactId"`
	Amount     int64  `dynamodbav:"amount"`
	Currency   string `dynamodbav:"currency"`
	Reason     string `dynamodbav:"reason,omitempty"`
	At         string `dynamodbav:"at"`
}

func (it refundItem) refund() contacts.Refund {
	return contacts.Refund{ID: it.ID, PurchaseID: it.PurchaseID, ContactID: it.ContactID, Amount: it.Amount, Currency: it.Currency, Reason: it.Reason, At: parseTime(it.At)}
}

// Refund records a refund on a purchase: the purchase's refunded total and
// the profile's net revenue move by exactly the amount, never past what was
// paid, once per refund id.
func (s *Store) Refund(ctx context.Context, site, purchaseID string, r contacts.Refund, e contacts.LifecycleEntry) (contacts.Refund, error) {
	claim, err := s.lookupClaim(ctx, purchaseClaimPK(site, purchaseID))
	if err != nil {
		return contacts.Refund{}, err
	}
	if claim.ContactID == "" {
		return contacts.Refund{}, contacts.ErrPurchaseNotFound
	}
	p, err := s.getPurchase(ctx, site, claim.ContactID, purchaseID)
	if err != nil {
		return contacts.Refund{}, err
	}
	if p.Kind != contacts.KindPurchase {
		return contacts.Refund{}, contacts.ErrNothingToRefund
	}
	r.ContactID, r.Currency = claim.ContactID, p.Currency
	e.Detail["currency"], e.Detail["offerTitle"] = p.Currency, p.OfferTitle
	pk := contactPK(site, claim.ContactID)
	notExists := mustBuild(expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))))
	// refunded + amount <= paid, written as refunded <= paid - amount.
	purchaseExpr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name("refunded"), expression.Value(r.Amount))).
		WithCondition(expression.Name("refunded").LessThanEqual(expression.Value(*p.Amount - r.Amount))))
	profileExpr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name(revenueAttr(p.Currency)), expression.Value(-r.Amount))).
		WithCondition(expression.AttributeExists(expression.Name("PK"))))
	item := refundItem{PK: pk, SK: refundSK(purchaseID, r.ID), Type: "refund", ID: r.ID, PurchaseID: purchaseID, ContactID: claim.ContactID,
		Amount: r.Amount, Currency: r.Currency, Reason: r.Reason, At: formatTime(r.At)}
	reasons, err := s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(item), ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}},
		{Update: &types.Update{TableName: &s.table, Key: key(pk, purchaseSK(purchaseID)),
			UpdateExpression: purchaseExpr.Update(), ConditionExpression: purchaseExpr.Condition(),
			ExpressionAttributeNames: purchaseExpr.Names(), ExpressionAttributeValues: purchaseExpr.Values()}},
		{Update: &types.Update{TableName: &s.table, Key: key(pk, skProfile),
			UpdateExpression: profileExpr.Update(), ConditionExpression: profileExpr.Condition(),
			ExpressionAttributeNames: profileExpr.Names(), ExpressionAttributeValues: profileExpr.Values()}},
		{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, claim.ContactID, e))}},
	})
	switch {
	case failed(reasons, 0):
		stored, err := s.storedRefund(ctx, pk, refundSK(purchaseID, r.ID))
		if err == nil && stored.Amount != r.Amount {
			return contacts.Refund{}, contacts.ErrRefundIDReused
		}
		return stored, err
	case failed(reasons, 1):
		return contacts.Refund{}, contacts.ErrRefundTooLarge
	case failed(reasons, 2):
		return contacts.Refund{}, contacts.ErrPurchaseNotFound
	case err != nil:
		return contacts.Refund{}, apperr.Wrap(err, "refund")
	}
	return r, nil
}

func (s *Store) storedRefund(ctx context.Context, pk, sk string) (contacts.Refund, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return contacts.Refund{}, apperr.Wrap(err, "read refund")
	}
	var it refundItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return contacts.Refund{}, apperr.Wrap(err, "decode refund")
	}
	return it.refund(), nil
}

// SetMuted mutes or unmutes a customer; a contact who is not a customer
// cannot be muted.
func (s *Store) SetMuted(ctx context.Context, site, id string, muted bool, now time.Time) (contacts.Contact, error) {
	expr := mustBuild(expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("muted"), expression.Value(muted)).
			Set(expression.Name("updatedAt"), expression.Value(formatTime(now))).
			Add(expression.Name("version"), expression.Value(1))).
		WithCondition(isCustomer().And(expression.Name("muted").NotEqual(expression.Value(muted)))))
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(contactPK(site, id), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		c, getErr := s.GetContact(ctx, site, id)
		switch {
		case getErr != nil:
			return contacts.Contact{}, getErr
		case c.Kind != contacts.KindCustomer:
			return contacts.Contact{}, contacts.ErrNotCustomer
		}
		return c, nil // already so: nothing to change, the ETag stays
	}
	if err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "mute")
	}
	var p profileItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &p); err != nil {
		return contacts.Contact{}, apperr.Wrap(err, "decode contact")
	}
	return p.contact(site), nil
}

// RecordActivity counts a sign-in (with its lifecycle entry) or notes
// activity. Last activity only moves forward: a late report of an older
// sign-in still counts, but leaves lastActivityAt where it is.
func (s *Store) RecordActivity(ctx context.Context, site, id string, signIn bool, at time.Time, e *contacts.LifecycleEntry) (contacts.Contact, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.GetContact(ctx, site, id)
		if err != nil {
			return contacts.Contact{}, err
		}
		var update expression.UpdateBuilder
		cond := expression.AttributeExists(expression.Name("PK"))
		moves := c.LastActivityAt == nil || at.After(*c.LastActivityAt)
		if moves {
			update = update.Set(expression.Name("lastActivityAt"), expression.Value(formatTime(at)))
			seen := expression.AttributeNotExists(expression.Name("lastActivityAt"))
			if c.LastActivityAt != nil {
				seen = expression.Name("lastActivityAt").Equal(expression.Value(formatTime(*c.LastActivityAt)))
			}
			cond = cond.And(seen)
		}
		if signIn {
			update = update.Add(expression.Name("signInCount"), expression.Value(1))
		}
		if !moves && !signIn {
			return c, nil // older activity than already known: nothing to record
		}
		expr := mustBuild(expression.NewBuilder().WithUpdate(update).WithCondition(cond))
		items := []types.TransactWriteItem{{Update: &types.Update{
			TableName: &s.table, Key: key(contactPK(site, id), skProfile),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}}}
		if e != nil {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mustMarshal(s.eventItem(site, id, *e))}})
		}
		reasons, err := s.transact(ctx, items)
		switch {
		case failed(reasons, 0) && attempt < 8:
			if err := retry.Backoff(ctx, attempt); err != nil {
				return contacts.Contact{}, err
			}
			continue // deleted, or another report moved last activity: look again
		case failed(reasons, 0):
			return contacts.Contact{}, apperr.ErrContactNotFound
		case err != nil:
			return contacts.Contact{}, apperr.Wrap(err, "record activity")
		}
		if moves {
			c.LastActivityAt = &at
		}
		if signIn {
			c.SignInCount++
		}
		return c, nil
	}
}

// Lifecycle pages through a contact's unexpired lifecycle, newest first,
// optionally of one type.
func (s *Store) Lifecycle(ctx context.Context, site, id string, q contacts.LifecycleQuery, now time.Time) (contacts.Page[contacts.LifecycleEntry], error) {
	list := "lifecycle:" + q.Type // a cursor pages one type's list only
	start, err := decodeCursor(q.Cursor, site, list)
	if err != nil {
		return contacts.Page[contacts.LifecycleEntry]{}, err
	}
	pk := contactPK(site, id)
	if start != nil && start["PK"].(*types.AttributeValueMemberS).Value != pk {
		return contacts.Page[contacts.LifecycleEntry]{}, apperr.ErrInvalidCursor
	}
	filter := expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix()))
	if q.Type != "" {
		filter = filter.And(expression.Name("eventType").Equal(expression.Value(q.Type)))
	}
	expr := mustBuild(expression.NewBuilder().
		WithKeyCondition(expression.Key("PK").Equal(expression.Value(pk)).And(expression.Key("SK").BeginsWith(skEventPre))).
		WithFilter(filter))
	page := contacts.Page[contacts.LifecycleEntry]{Items: []contacts.LifecycleEntry{}}
	for round := 0; round < maxListRounds; round++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(q.Limit - len(page.Items))), ExclusiveStartKey: start,
		})
		if err != nil {
			return page, apperr.Wrap(err, "read lifecycle")
		}
		for i, item := range out.Items {
			var ev eventItem
			if err := attributevalue.UnmarshalMap(item, &ev); err != nil {
				return page, apperr.Wrap(err, "decode lifecycle entry")
			}
			page.Items = append(page.Items, ev.entry())
			if len(page.Items) == q.Limit {
				if i < len(out.Items)-1 || out.LastEvaluatedKey != nil {
					page.Next = encodeCursor(site, list, map[string]types.AttributeValue{"PK": item["PK"], "SK": item["SK"]})
				}
				return page, nil
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
		if round == maxListRounds-1 {
			page.Next = encodeCursor(site, list, start)
		}
	}
	if len(page.Items) == 0 && q.Cursor == "" {
		if _, err := s.GetContact(ctx, site, id); err != nil {
			return page, err
		}
	}
	return page, nil
}
