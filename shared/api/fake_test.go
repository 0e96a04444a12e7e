package api_test

import (
	"context"
	"errors"
	"time"

	"github.com/creator-platform/contacts/shared/contacts"
)

// fakeStore is a contacts.Store whose behaviour each test sets through
// function fields; a call a test did not expect fails loudly as a 500.
type fakeStore struct {
	createContact func(c contacts.Contact, added contacts.LifecycleEntry) error
	getContact    func(site, id string) (contacts.Contact, error)
	getProfile    func(site, id string, limit int, now time.Time) (contacts.Profile, error)
	updateContact func(old, updated contacts.Contact) error
	deleteContact func(site, id string) error
	listContacts  func(site string, q contacts.ListQuery) (contacts.Page[contacts.Contact], error)
	addNote       func(site, contactID string, n contacts.Note) error
	listNotes     func(site, contactID string, limit int, cursor string) (contacts.Page[contacts.Note], error)
	deleteNote    func(site, contactID, noteID string) error
	addTag        func(site, contactID, tag string) (contacts.Contact, error)
	removeTag     func(site, contactID, tag string) (contacts.Contact, error)
	listTags      func(site string) ([]contacts.TagCount, error)
	setHidden     func(site, id string, hidden bool) (contacts.Contact, error)

	// The customer's side (contacts.CustomerStore).
	recordPurchase func(newContact contacts.Contact, p contacts.Purchase, e contacts.LifecycleEntry) (contacts.Purchase, bool, error)
	grant          func(site string, p contacts.Purchase, e contacts.LifecycleEntry) error
	endPurchase    func(site, contactID, purchaseID string, by contacts.Actor, e contacts.LifecycleEntry) (contacts.Purchase, error)
	refund         func(site, purchaseID string, r contacts.Refund, e contacts.LifecycleEntry) (contacts.Refund, error)
	setMuted       func(site, id string, muted bool) (contacts.Contact, error)
	recordActivity func(site, id string, signIn bool, at time.Time, e *contacts.LifecycleEntry) (contacts.Contact, error)
	lifecycle      func(site, id string, q contacts.LifecycleQuery) (contacts.Page[contacts.LifecycleEntry], error)
}

var _ contacts.CustomerStore = (*fakeStore)(nil)

var errUnexpected = errors.New("unexpected store call")

func (f *fakeStore) CreateContact(_ context.Context, c contacts.Contact, added contacts.LifecycleEntry) error {
	if f.createContact == nil {
		return errUnexpected
	}
	return f.createContact(c, added)
}

func (f *fakeStore) GetContact(_ context.Context, site, id string) (contacts.Contact, error) {
	if f.getContact == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.getContact(site, id)
}

func (f *fakeStore) GetProfile(_ context.Context, site, id string, limit int, now time.Time) (contacts.Profile, error) {
	if f.getProfile == nil {
		return contacts.Profile{}, errUnexpected
	}
	return f.getProfile(site, id, limit, now)
}

func (f *fakeStore) UpdateContact(_ context.Context, old, updated contacts.Contact) error {
	if f.updateContact == nil {
		return errUnexpected
	}
	return f.updateContact(old, updated)
}

func (f *fakeStore) DeleteContact(_ context.Context, site, id string) error {
	if f.deleteContact == nil {
		return errUnexpected
	}
	return f.deleteContact(site, id)
}

func (f *fakeStore) ListContacts(_ context.Context, site string, q contacts.ListQuery) (contacts.Page[contacts.Contact], error) {
	if f.listContacts == nil {
		return contacts.Page[contacts.Contact]{}, errUnexpected
	}
	return f.listContacts(site, q)
}

func (f *fakeStore) AddNote(_ context.Context, site, contactID string, n contacts.Note) error {
	if f.addNote == nil {
		return errUnexpected
	}
	return f.addNote(site, contactID, n)
}

func (f *fakeStore) ListNotes(_ context.Context, site, contactID string, limit int, cursor string) (contacts.Page[contacts.Note], error) {
	if f.listNotes == nil {
		return contacts.Page[contacts.Note]{}, errUnexpected
	}
	return f.listNotes(site, contactID, limit, cursor)
}

func (f *fakeStore) DeleteNote(_ context.Context, site, contactID, noteID string) error {
	if f.deleteNote == nil {
		return errUnexpected
	}
	return f.deleteNote(site, contactID, noteID)
}

func (f *fakeStore) AddTag(_ context.Context, site, contactID, tag string, _ time.Time) (contacts.Contact, error) {
	if f.addTag == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.addTag(site, contactID, tag)
}

func (f *fakeStore) RemoveTag(_ context.Context, site, contactID, tag string, _ time.Time) (contacts.Contact, error) {
	if f.removeTag == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.removeTag(site, contactID, tag)
}

func (f *fakeStore) ListTags(_ context.Context, site string) ([]contacts.TagCount, error) {
	if f.listTags == nil {
		return nil, errUnexpected
	}
	return f.listTags(site)
}

func (f *fakeStore) SetHidden(_ context.Context, site, id string, hidden bool, _ time.Time) (contacts.Contact, error) {
	if f.setHidden == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.setHidden(site, id, hidden)
}

func (f *fakeStore) RecordPurchase(_ context.Context, newContact contacts.Contact, p contacts.Purchase, e contacts.LifecycleEntry) (contacts.Purchase, bool, error) {
	if f.recordPurchase == nil {
		return contacts.Purchase{}, false, errUnexpected
	}
	return f.recordPurchase(newContact, p, e)
}

func (f *fakeStore) Grant(_ context.Context, site string, p contacts.Purchase, e contacts.LifecycleEntry) error {
	if f.grant == nil {
		return errUnexpected
	}
	return f.grant(site, p, e)
}

func (f *fakeStore) EndPurchase(_ context.Context, site, contactID, purchaseID string, by contacts.Actor, e contacts.LifecycleEntry) (contacts.Purchase, error) {
	if f.endPurchase == nil {
		return contacts.Purchase{}, errUnexpected
	}
	return f.endPurchase(site, contactID, purchaseID, by, e)
}

func (f *fakeStore) Refund(_ context.Context, site, purchaseID string, r contacts.Refund, e contacts.LifecycleEntry) (contacts.Refund, error) {
	if f.refund == nil {
		return contacts.Refund{}, errUnexpected
	}
	return f.refund(site, purchaseID, r, e)
}

func (f *fakeStore) SetMuted(_ context.Context, site, id string, muted bool, _ time.Time) (contacts.Contact, error) {
	if f.setMuted == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.setMuted(site, id, muted)
}

func (f *fakeStore) RecordActivity(_ context.Context, site, id string, signIn bool, at time.Time, e *contacts.LifecycleEntry) (contacts.Contact, error) {
	if f.recordActivity == nil {
		return contacts.Contact{}, errUnexpected
	}
	return f.recordActivity(site, id, signIn, at, e)
}

func (f *fakeStore) Lifecycle(_ context.Context, site, id string, q contacts.LifecycleQuery, _ time.Time) (contacts.Page[contacts.LifecycleEntry], error) {
	if f.lifecycle == nil {
		return contacts.Page[contacts.LifecycleEntry]{}, errUnexpected
	}
	return f.lifecycle(site, id, q)
}
