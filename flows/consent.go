package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"huimin/chat"
	"huimin/flows/intake"
	"huimin/store"
)

// Consents keeps the citizens' agreements to the personal-information
// notice (个人信息保护法), for good: agreeing once is enough for every later
// conversation. The store provides it.
type Consents interface {
	ConsentOf(ctx context.Context, openID string) (time.Time, error)
	RecordConsent(ctx context.Context, openID string, at time.Time) (time.Time, error)
	WithdrawConsent(ctx context.Context, openID string) (bool, error)
}

// withdrawConsent answers 撤回同意: the agreement is forgotten, a flow in
// progress ends unsubmitted (it may hold a number given under the
// agreement), and the next phone or ID question shows the notice again.
// ok reports that the message was the withdrawal.
func (e *Engine) withdrawConsent(ctx context.Context, ev chat.Event, st *intake.State, sess *store.Session) (replies []chat.Reply, ok bool, err error) {
	if e.opts.Consents == nil || (ev.Kind != chat.KindText && ev.Kind != chat.KindVoice) {
		return nil, false, nil
	}
	e.withdrawOnce.Do(func() { e.withdrawWords = strings.Fields(e.citizenTexts.Say("consent_withdraw_words", nil)) })
	if !slices.Contains(e.withdrawWords, strings.Trim(strings.TrimSpace(ev.Text), "。.!！")) {
		return nil, false, nil
	}
	had, err := e.opts.Consents.WithdrawConsent(ctx, sess.OpenID)
	if err != nil {
		return nil, true, fmt.Errorf("withdraw consent: %w", err)
	}
	sess.ConsentAt, sess.ConsentChecked = time.Time{}, true
	if !had {
		return textReply(e.citizenTexts.Say("consent_not_given", nil)), true, nil
	}
	cancelled := st.Flow != ""
	*st = intake.State{}
	e.opts.Log.InfoContext(ctx, "personal information consent withdrawn", "openid", sess.OpenID)
	return textReply(e.citizenTexts.Say("consent_withdrawn", map[string]any{"Cancelled": cancelled})), true, nil
}

// step runs one input through the flows with what the engine knows of the
// citizen's consent, and records an agreement given with it.
//
// The session caches the agreement (and that none was found), so the
// store is read at most once a session, and only when a flow is about to
// show the notice: a conversation that never reaches a phone question
// costs no read. The interpreter is pure, so stepping again with the
// agreement found is safe.
func (e *Engine) step(ctx context.Context, set *intake.Set, st intake.State, in intake.Input, sess *store.Session) (intake.Result, error) {
	in.Consented = !sess.ConsentAt.IsZero()
	res := set.Step(st, in)
	if res.Notice && !in.Consented && !sess.ConsentChecked && e.opts.Consents != nil {
		at, err := e.opts.Consents.ConsentOf(ctx, sess.OpenID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return intake.Result{}, fmt.Errorf("read consent: %w", err)
		}
		sess.ConsentAt, sess.ConsentChecked = at, true
		if err == nil {
			in.Consented = true
			res = set.Step(st, in)
		}
	}
	if res.Consented {
		now := e.opts.Now()
		at := now
		if e.opts.Consents != nil {
			var err error
			if at, err = e.opts.Consents.RecordConsent(ctx, sess.OpenID, now); err != nil {
				return intake.Result{}, fmt.Errorf("record consent: %w", err)
			}
		}
		sess.ConsentAt, sess.ConsentChecked = at, true
		e.opts.Log.InfoContext(ctx, "personal information consent recorded", "openid", sess.OpenID)
	}
	return res, nil
}
