package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"huimin/store"
)

// Retention (个人信息保护法: kept no longer than needed). A finished
// ticket's personal data is erased once it has been archived for longer
// than the configured retention, and what the published results count
// (store.FactsOf) stays exactly as it was.
//
// A ticket is archived when it is closed (归档, ClosedAt); a ticket
// resolved and never closed counts from its resolution (ResolvedAt), one
// transferred to an outside agency from the transfer. Open tickets are
// never erased.
//
// Erased: the citizen's openid (emptied, which also takes the ticket out
// of the citizen's index), name, phone and ID number; every answer of the
// form with its label (names, addresses, details, dates: the flows' fields
// are not sorted into personal and not); the summary; the texts of the
// transcript (who wrote when stays); the resolution text; attachments
// (media IDs, URLs, locations); survey comments, replaced by ErasedText so
// that "commented" still counts; and the words of the history events that
// carry what the citizen or the officer said to them (citizen replies,
// handovers, officers' replies and questions, resolutions, ratings and
// comments).
//
// Kept: line, inquiry, department, window, owner and first responsible,
// state, every date and the deadline, urgency, the extension, survey
// rounds, levels, channels and appeals, rectification records, and the
// history's who, when and what (with the officers' reasons for transfers,
// extensions and unmasking: the bureau's own record of its work).
//
// What else held the citizen's openid with the ticket, and why it is not
// touched here: the conversation session (expires bot.session_ttl + 24h
// after the last message), the opened_by record of the message that
// opened a ticket (24h), the open-survey pointer (survey.expire), the
// outbox's messages and outcomes (sent within hours, outcomes kept days):
// all long gone after years. The consent record (openid → when they
// agreed) stays: it concerns the person, not the ticket, and is the proof
// of their consent while they use the service. Officer bindings hold
// officers' accounts only.

// ErasedText replaces a survey comment that was erased: the comment was
// there (the results count that), its words are gone.
const ErasedText = "***"

// eraseDetail are the history kinds whose Detail holds words said to or by
// the citizen.
var eraseDetail = map[store.EventKind]bool{
	EventCitizenReplied: true, EventHandover: true, EventReplied: true, EventAskedMore: true,
	EventResolved: true, EventRated: true, EventSurveyComment: true,
}

// errErased stops Erase on a ticket erased already.
var errErased = errors.New("already erased")

// ArchivedAt is when a finished ticket was archived, from which its
// retention counts: closed, else resolved, else transferred out; false for
// a ticket that is not finished.
func ArchivedAt(t store.Ticket) (time.Time, bool) {
	switch t.State {
	case store.StateClosed, store.StateResolved:
		if !t.ClosedAt.IsZero() {
			return t.ClosedAt, true
		}
		return t.ResolvedAt, !t.ResolvedAt.IsZero()
	case store.StateTransferredOut:
		if ev, ok := lastEvent(t, EventTransferredOut); ok {
			return ev.At, true
		}
	}
	return time.Time{}, false
}

// Erased reports whether a ticket's personal data has been erased.
func Erased(t store.Ticket) bool {
	_, ok := lastEvent(t, EventErased)
	return ok
}

// Erase erases a finished ticket's personal data (OpErase, by the system)
// and appends one history event; erased reports false, changing nothing,
// for a ticket erased before. It refuses an open ticket (ErrWrongState).
func (d *Desk) Erase(ctx context.Context, id string) (t store.Ticket, erased bool, err error) {
	t, err = d.apply(ctx, id, OpErase, actorSystem, func(t store.Ticket) error {
		if Erased(t) {
			return errErased
		}
		return nil
	}, func(t *store.Ticket, _ *store.TicketEvent) error {
		erase(t)
		return nil
	})
	if errors.Is(err, errErased) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	return t, true, nil
}

// erase removes the personal data from t in place.
func erase(t *store.Ticket) {
	t.CitizenOpenID, t.Name, t.Phone, t.IDNumber = "", "", "", ""
	t.Summary, t.Resolution = "", ""
	t.Fields, t.Labels, t.Attachments = nil, nil, nil
	for i := range t.Transcript {
		t.Transcript[i].Text = ""
	}
	for i := range t.Surveys {
		if t.Surveys[i].Comment != "" {
			t.Surveys[i].Comment = ErasedText
		}
	}
	for i := range t.History {
		if eraseDetail[t.History[i].Kind] {
			t.History[i].Detail = ""
		}
	}
}

// retentionMark is the cache key of the sweep's mark: every ticket received
// before it is erased, so the next sweep starts there.
const retentionMark = "retention:erased_before"

// retentionMarkTTL keeps the mark beyond any retention; losing it costs
// one sweep that reads from the beginning.
const retentionMarkTTL = 10 * 365 * 24 * time.Hour

// EraseExpired erases the personal data of every finished ticket archived
// before now - retention and returns how many it erased. It is idempotent
// and safe to run on several instances at once: each erasure is one
// optimistic update that skips a ticket erased meanwhile.
//
// A ticket archived before the cutoff was received before it, so the
// sweep reads the facts index by time up to the cutoff, and only from the
// mark the last sweep left: the time before which every ticket is
// erased. From the facts it reads only finished tickets that may be due
// (resolved before the cutoff, or transferred out) in full.
func (d *Desk) EraseExpired(ctx context.Context, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("erase expired: retention %v is not positive", retention)
	}
	cutoff := d.now().Add(-retention)
	from := time.Unix(0, 0).UTC()
	if v, err := d.st.GetCache(ctx, retentionMark); err == nil {
		if us, err := strconv.ParseInt(v, 10, 64); err == nil {
			from = time.UnixMicro(us).UTC()
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("erase expired: read mark: %w", err)
	}
	if !from.Before(cutoff) {
		return 0, nil
	}
	// mark is the earliest receipt of a ticket left with personal data.
	mark := cutoff
	var due []store.Facts
	err := d.st.TicketFacts(ctx, from, cutoff, func(f store.Facts) error {
		switch {
		case f.State == store.StateTransferredOut,
			(f.State == store.StateClosed || f.State == store.StateResolved) && f.ResolvedAt.Before(cutoff):
			due = append(due, f)
		default:
			if f.CreatedAt.Before(mark) {
				mark = f.CreatedAt
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("erase expired: %w", err)
	}
	n := 0
	for _, f := range due {
		t, err := d.st.GetTicket(ctx, f.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("erase expired: get ticket %s: %w", f.ID, err)
		}
		if Erased(t) {
			continue
		}
		if archived, ok := ArchivedAt(t); !ok || !archived.Before(cutoff) {
			if t.CreatedAt.Before(mark) {
				mark = t.CreatedAt
			}
			continue
		}
		_, erased, err := d.Erase(ctx, t.ID)
		if errors.Is(err, ErrWrongState) {
			// Reopened since it was read: not due any more.
			if t.CreatedAt.Before(mark) {
				mark = t.CreatedAt
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("erase expired: %w", err)
		}
		if erased {
			n++
		}
	}
	if err := d.st.SetCache(ctx, retentionMark, strconv.FormatInt(mark.UnixMicro(), 10), retentionMarkTTL); err != nil {
		return n, fmt.Errorf("erase expired: save mark: %w", err)
	}
	return n, nil
}
