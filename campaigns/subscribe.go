package campaigns

import (
	"context"
	"fmt"
	"slices"
	"time"

	"huimin/chat"
	"huimin/store"
)

// LineCampaigns names the campaigns of a service line, in configuration
// order; none means a matter of the line ends without the offer.
func (s *Service) LineCampaigns(line string) []string {
	var names []string
	for _, c := range s.list {
		if slices.Contains(c.Lines, line) {
			names = append(names, c.Name)
		}
	}
	return names
}

// Subscribe opts a person in, at the time of the call, to the campaigns
// of a service line ("" for every campaign), recording their 称呼 when
// known, and returns the names of the campaigns they are now subscribed
// to through this opt-in.
func (s *Service) Subscribe(ctx context.Context, openID, name, line string) ([]string, error) {
	var ids, names []string
	for _, c := range s.list {
		if line == "" || slices.Contains(c.Lines, line) {
			ids, names = append(ids, c.ID), append(names, c.Name)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if _, err := s.st.Subscribe(ctx, openID, name, ids, s.opts.Now()); err != nil {
		return nil, err
	}
	s.opts.Log.InfoContext(ctx, "campaigns subscribed", "openid", openID, "campaigns", ids)
	return names, nil
}

// Unsubscribe stops every campaign for a person at once and returns the
// names of those they were subscribed to (none: nothing to stop).
func (s *Service) Unsubscribe(ctx context.Context, openID string) ([]string, error) {
	ids, err := s.st.Unsubscribe(ctx, openID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, id := range ids {
		if c, ok := s.byID[id]; ok {
			names = append(names, c.Name)
		}
	}
	if len(ids) > 0 {
		s.opts.Log.InfoContext(ctx, "campaigns unsubscribed", "openid", openID, "campaigns", ids)
	}
	return names, nil
}

// Notice statuses of WeChat's subscribe-notice events (订阅通知): the
// person accepted the notice in the popup, or refused it there or turned
// it off later in the account's settings.
const (
	NoticeAccept = "accept"
	NoticeReject = "reject"
)

// NoticeChoice applies what a person chose on the account's subscribe
// notices (the popup, or the change they made later): accepting the notice
// a campaign sends opts them in to that campaign; refusing or turning off
// any campaign's notice is the notice's own opt-out and stops every
// campaign at once, as 退订 does. It returns the names subscribed and
// those stopped; notices no campaign uses change nothing.
func (s *Service) NoticeChoice(ctx context.Context, openID string, notices []chat.Notice) (subscribed, stopped []string, err error) {
	var ids, names []string
	optOut := false
	for _, n := range notices {
		for _, c := range s.list {
			if c.Notice == "" || n.TemplateID == "" || s.opts.NoticeID(c.Notice) != n.TemplateID {
				continue
			}
			switch n.Status {
			case NoticeAccept:
				if !slices.Contains(ids, c.ID) {
					ids, names = append(ids, c.ID), append(names, c.Name)
				}
			case NoticeReject:
				optOut = true
			}
		}
	}
	if optOut {
		stopped, err = s.Unsubscribe(ctx, openID)
		return nil, stopped, err
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if _, err := s.st.Subscribe(ctx, openID, "", ids, s.opts.Now()); err != nil {
		return nil, nil, err
	}
	s.opts.Log.InfoContext(ctx, "campaigns subscribed by subscribe notice", "openid", openID, "campaigns", ids)
	return names, nil, nil
}

// Seen records that a person wrote to the account at at (for the 48-hour
// window); nothing for someone not subscribed.
func (s *Service) Seen(ctx context.Context, openID string, at time.Time) error {
	return s.st.Seen(ctx, openID, at)
}

// Preview is how a campaign would reach its subscribers now.
type Preview struct {
	Campaign string
	// Chat counts those seen within WeChat's 48-hour window, Template and
	// Notice those outside it whom the campaign's template or subscribe
	// notice would reach, Skipped the others (and, for a campaign of
	// ticket holders, those without such a ticket).
	Chat, Template, Notice, Skipped int
}

// Total is how many subscribers the preview counted.
func (p Preview) Total() int { return p.Chat + p.Template + p.Notice + p.Skipped }

// Preview counts how a campaign would reach each subscriber if it ran
// now, without sending anything. LastSeen is at most an hour stale, so a
// person near the end of the window may be counted inside it.
func (s *Service) Preview(ctx context.Context, id string) (Preview, error) {
	c, ok := s.byID[id]
	if !ok {
		return Preview{}, fmt.Errorf("preview campaign %q: %w", id, store.ErrNotFound)
	}
	p := Preview{Campaign: id}
	now := s.opts.Now()
	after := ""
	for {
		page, err := s.st.Subscribers(ctx, id, after, pageSize)
		if err != nil {
			return p, err
		}
		if len(page) == 0 {
			return p, nil
		}
		for _, sub := range page {
			ok, err := s.holds(ctx, c, sub.OpenID)
			if err != nil {
				return p, err
			}
			switch {
			case !ok:
				p.Skipped++
			case now.Sub(sub.LastSeen) < csWindow:
				p.Chat++
			case c.Template != "" && s.opts.Usable(c.Template):
				p.Template++
			case c.Notice != "" && s.opts.Usable(c.Notice):
				p.Notice++
			default:
				p.Skipped++
			}
		}
		after = page[len(page)-1].OpenID
	}
}
