package store

import "time"

// Subscriber is a citizen who opted in to reminder campaigns (事前主动服务):
// which campaigns, since when, the 称呼 they gave (for the greeting) and
// when they were last seen writing to the account, which bounds WeChat's
// 48-hour customer-service window.
type Subscriber struct {
	OpenID string `json:"openid"`
	// Name is the 称呼 the person gave in a flow before opting in; empty
	// when unknown.
	Name string `json:"name,omitempty"`
	// Campaigns maps each campaign ID the person opted in to to when.
	Campaigns map[string]time.Time `json:"campaigns"`
	// LastSeen is when the person last wrote to the account, at most an
	// hour stale (it is written at most once an hour).
	LastSeen time.Time `json:"last_seen,omitzero"`
}
