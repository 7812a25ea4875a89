package sim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Posting modes of the simulated account, as chosen in the WeChat console (消息加解密方式).
const (
	ModePlain      = "plain"      // 明文模式: plaintext XML, signature only
	ModeCompatible = "compatible" // 兼容模式: plaintext fields and Encrypt side by side
	ModeSafe       = "safe"       // 安全模式: only ToUserName and Encrypt
)

// Defaults used when Options leaves a field empty.
const (
	DefaultAppID      = "wxd00000000000sim1"
	DefaultAppSecret  = "5ec0000000000000000000000000sim1"
	DefaultToken      = "huiminsimtoken"
	DefaultOriginalID = "gh_huimin_sim"

	// WeCom defaults, used when Options.CorpID is set and the other WeCom fields are empty.
	DefaultCorpSecret = "huiminsimcorpsecret0000000000000000000000sim"
	DefaultAgentID    = 1000002
	DefaultWeComToken = "huiminsimwecomtoken"

	// DefaultCustomerServiceLimit is how many customer-service messages may follow one user
	// action before WeChat answers 45047. The project's domain brief uses 5; operators have
	// reported 20 for official accounts, so it is an option.
	DefaultCustomerServiceLimit = 5

	// webhookTimeout is WeChat's budget for the webhook's answer.
	webhookTimeout = 5 * time.Second
	// maxDeliveries is how many times WeChat posts one message when the webhook is silent.
	maxDeliveries = 3
	// csWindow is how long after the user's last action customer-service messages may be sent.
	csWindow = 48 * time.Hour
	// tokenLifetime is the lifetime of every access token.
	tokenLifetime = 7200 * time.Second
	// tokenOverlap is how long a replaced token keeps working.
	tokenOverlap = 5 * time.Minute
	// clientMsgIDWindow is how long template client_msg_id de-duplication holds.
	clientMsgIDWindow = 10 * time.Minute
)

// Errors a caller of the simulator may branch on.
var (
	// ErrConfig means the Options cannot work (for example safe mode without an AES key).
	ErrConfig = errors.New("sim: invalid options")
	// ErrNoWebhook means Options.WebhookURL is empty.
	ErrNoWebhook = errors.New("sim: no webhook url")
	// ErrInvalidMessage means the message to send is incomplete or of an unknown type.
	ErrInvalidMessage = errors.New("sim: invalid message")
	// ErrUnfollowed means the user has unfollowed the account: WeChat offers only "follow".
	ErrUnfollowed = errors.New("sim: user has unfollowed the account")
	// ErrUnknownTicket means a scanned QR ticket was never issued or has expired.
	ErrUnknownTicket = errors.New("sim: unknown or expired qr ticket")
	// ErrNoAnswer means the webhook did not answer any of WeChat's deliveries in time.
	ErrNoAnswer = errors.New("sim: webhook did not answer")
	// ErrWebhookStatus means the webhook answered with an HTTP status other than 200.
	ErrWebhookStatus = errors.New("sim: webhook answered with an error status")
	// ErrBadReply means the passive reply could not be verified or decoded; WeChat shows
	// the user 该公众号暂时无法提供服务，请稍后再试.
	ErrBadReply = errors.New("sim: broken passive reply")
	// ErrVerify means the webhook failed the echostr URL verification.
	ErrVerify = errors.New("sim: url verification failed")
	// ErrWeComDisabled means Options.CorpID is empty, so there is no simulated WeCom.
	ErrWeComDisabled = errors.New("sim: wecom is not configured (no corp id)")
)

// defaultWeComMembers are the members of the simulated corp when Options.WeComMembers is
// empty: officers at a service window (窗口) and in sections (科室).
func defaultWeComMembers() []string { return []string{"wang.ming", "li.na", "zhang.wei"} }

// serviceUnavailable is what WeChat shows the user when the webhook fails.
const serviceUnavailable = "该公众号暂时无法提供服务，请稍后再试"

// Options configures a Simulator. The zero value works: it simulates a plain-mode account with
// default credentials and no webhook.
type Options struct {
	// AppID, AppSecret and Token are the account's credentials, as in the WeChat console.
	AppID, AppSecret, Token string
	// AESKey is the 43-character EncodingAESKey; when set the simulator posts in safe mode
	// unless Mode says otherwise.
	AESKey string
	// Mode is ModePlain, ModeCompatible or ModeSafe; default ModeSafe if AESKey is set,
	// else ModePlain.
	Mode string
	// WebhookURL is the service's /wechat endpoint, e.g. http://127.0.0.1:8080/wechat.
	WebhookURL string
	// OriginalID is the account's gh_ ID, used as ToUserName; default DefaultOriginalID.
	OriginalID string
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// HTTPClient posts to the webhook; default a client with WeChat's 5 s timeout.
	HTTPClient *http.Client
	// Log receives the simulator's logs; default discards them.
	Log *slog.Logger
	// CustomerServiceLimit is how many customer-service messages may follow one user action;
	// default DefaultCustomerServiceLimit.
	CustomerServiceLimit int

	// CorpID switches on the simulated WeCom (企业微信), where officers are members of the
	// bureau's corp and talk to its application; WeCom is off when it is empty.
	CorpID string
	// CorpSecret is the application's secret for /cgi-bin/gettoken; default DefaultCorpSecret.
	CorpSecret string
	// AgentID is the application's agentid; default DefaultAgentID.
	AgentID int
	// WeComToken and WeComAESKey are the application's callback Token and EncodingAESKey
	// (43 characters, required: WeCom always encrypts callbacks). WeComToken defaults to
	// DefaultWeComToken.
	WeComToken, WeComAESKey string
	// WeComWebhookURL is the service's WeCom callback endpoint.
	WeComWebhookURL string
	// WeComMembers are the userids of the corp's members; default wang.ming, li.na and
	// zhang.wei. A userid that sends a message (SendWeCom) becomes a member too.
	WeComMembers []string
	// WeComPresets, when set, are the corp's members with the labels the
	// chat page shows them under (from the service's configuration); they
	// replace WeComMembers and the default names.
	WeComPresets []Preset
	// Presets are the ready-made users the chat page offers (citizens and
	// officers); default citizen-001..003 and officer-001..002.
	Presets []Preset
	// OAuthDomains are the account's web authorisation domains (网页授权域名): the authorize
	// page sends the browser back only to a redirect_uri on one of these hosts (ports
	// ignored), else it shows error 10003. Empty allows any host.
	OAuthDomains []string
}

// Simulator is a fake WeChat platform. Create it with New, serve Handler on loopback, and
// call Close when done. All methods are safe for concurrent use.
type Simulator struct {
	// weComLabels are the configured members' labels on the chat page.
	weComLabels                     map[string]string
	appID, appSecret, token, aesKey string
	mode                            string
	webhookURL                      string
	originalID                      string
	now                             func() time.Time
	client                          *http.Client
	log                             *slog.Logger
	csLimit                         int
	presets                         []Preset
	cfgErr                          error
	mux                             *http.ServeMux

	// WeCom; corpID is empty when it is off.
	corpID, corpSecret      string
	agentID                 int
	weComToken, weComAESKey string
	weComWebhookURL         string
	weComCfgErr             error

	// bgCtx ends background pushes (TEMPLATESENDJOBFINISH and the like) on Close.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup // s.bg.Add only under s.mu with closed false

	mu         sync.Mutex
	closed     bool
	changed    chan struct{} // closed and replaced whenever a timeline grows
	seq        int64
	nextMsgID  int64
	nextTplID  int64
	tokens     map[string]*accessToken
	normalTok  string // the latest /cgi-bin/token token
	stableTok  string // the current /cgi-bin/stable_token token
	forceTimes []time.Time
	users      map[string]*user
	timeline   map[string][]Received
	menu       *storedMenu
	qrs        map[string]QRCode
	tplSent    map[string]tplRecord      // openid + "\x00" + client_msg_id
	grants     map[string]map[string]int // openid → subscribe-notice template → sends left
	calls      map[string]int
	faults     faultState
	lost       []LostAnswer           // answers lost to FaultLateAnswer
	members    map[string]string      // lower-cased userid → userid (WeCom ids ignore case)
	weComTok   string                 // the current /cgi-bin/gettoken token
	weComSent  map[string][]time.Time // userid → application messages in the last hour
	// oauthCodes are the web authorisation's codes, until they expire.
	oauthCodes   map[string]*oauthCode
	oauthDomains []string // lower-cased hosts; empty: any
}

// user is what WeChat knows of one follower.
type user struct {
	openID        string
	subscribed    bool
	subscribeTime time.Time
	scene         string // subscribe_scene of user/info
	qrScene       int
	qrSceneStr    string
	lastAction    time.Time // the last action that opens the customer-service window
	csSent        int       // customer-service messages since lastAction
}

// New returns a Simulator configured by opts. Invalid options (such as safe mode without an
// AES key) do not panic: Send and VerifyURL report them as ErrConfig.
func New(opts Options) *Simulator {
	s := &Simulator{
		appID:      orDefault(opts.AppID, DefaultAppID),
		appSecret:  orDefault(opts.AppSecret, DefaultAppSecret),
		token:      orDefault(opts.Token, DefaultToken),
		aesKey:     opts.AESKey,
		mode:       opts.Mode,
		webhookURL: opts.WebhookURL,
		originalID: orDefault(opts.OriginalID, DefaultOriginalID),
		now:        opts.Now,
		client:     opts.HTTPClient,
		log:        opts.Log,
		csLimit:    opts.CustomerServiceLimit,
		presets:    opts.Presets,
		changed:    make(chan struct{}),
		tokens:     make(map[string]*accessToken),
		users:      make(map[string]*user),
		timeline:   make(map[string][]Received),
		qrs:        make(map[string]QRCode),
		tplSent:    make(map[string]tplRecord),
		grants:     make(map[string]map[string]int),
		calls:      make(map[string]int),
		faults:     newFaultState(),
		members:    make(map[string]string),
		weComSent:  make(map[string][]time.Time),
		oauthCodes: make(map[string]*oauthCode),
	}
	for _, d := range opts.OAuthDomains {
		s.oauthDomains = append(s.oauthDomains, strings.ToLower(d))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: webhookTimeout}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.csLimit <= 0 {
		s.csLimit = DefaultCustomerServiceLimit
	}
	if s.mode == "" {
		s.mode = ModePlain
		if s.aesKey != "" {
			s.mode = ModeSafe
		}
	}
	switch {
	case s.mode != ModePlain && s.mode != ModeCompatible && s.mode != ModeSafe:
		s.cfgErr = fmt.Errorf("%w: unknown mode %q", ErrConfig, s.mode)
	case s.mode != ModePlain && len(s.aesKey) != 43:
		s.cfgErr = fmt.Errorf("%w: mode %s needs a 43-character AES key", ErrConfig, s.mode)
	}
	// MsgIds are above 2^53 like WeChat's, so a service that parses them as float64 breaks
	// in tests, not in production.
	s.nextMsgID = 24_000_000_000_000_000 + randInt(1_000_000_000_000_000)
	s.nextTplID = 3_000_000_000_000_000_000 + randInt(1_000_000_000_000_000_000)
	s.configureWeCom(opts)
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.mux = s.routes()
	return s
}

// configureWeCom takes the WeCom options. Invalid ones do not stop the Official Account
// side: SendWeCom and VerifyWeComURL report them as ErrConfig.
func (s *Simulator) configureWeCom(opts Options) {
	if opts.CorpID == "" {
		return
	}
	s.corpID = opts.CorpID
	s.corpSecret = orDefault(opts.CorpSecret, DefaultCorpSecret)
	s.agentID = opts.AgentID
	if s.agentID == 0 {
		s.agentID = DefaultAgentID
	}
	s.weComToken = orDefault(opts.WeComToken, DefaultWeComToken)
	s.weComAESKey = opts.WeComAESKey
	s.weComWebhookURL = opts.WeComWebhookURL
	if len(s.weComAESKey) != 43 {
		s.weComCfgErr = fmt.Errorf("%w: wecom needs a 43-character WeComAESKey", ErrConfig)
	}
	members := opts.WeComMembers
	s.weComLabels = map[string]string{}
	for _, p := range opts.WeComPresets {
		members = append(members, p.OpenID)
		s.weComLabels[p.OpenID] = p.Label
	}
	if len(members) == 0 {
		members = defaultWeComMembers()
	}
	for _, id := range members {
		s.addMemberLocked(id) // not shared yet: no lock needed
	}
}

// Handler serves the WeChat API, the chat page and the /sim/api/ JSON API on one mux.
func (s *Simulator) Handler() http.Handler { return s.mux }

// Close stops background pushes to the webhook and waits for them to end.
func (s *Simulator) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.bgCancel()
	s.bg.Wait()
}

// Mode reports the posting mode: ModePlain, ModeCompatible or ModeSafe.
func (s *Simulator) Mode() string { return s.mode }

// AppID reports the simulated account's AppID.
func (s *Simulator) AppID() string { return s.appID }

// CorpID reports the simulated corp's CorpID; empty when WeCom is off.
func (s *Simulator) CorpID() string { return s.corpID }

// routes registers every endpoint.
func (s *Simulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(path string, h http.HandlerFunc) { mux.Handle(path, s.apiMiddleware(h)) }
	// WeChat answers GET and POST alike on most paths, so no method patterns here.
	api("/cgi-bin/token", s.handleToken)
	api("/cgi-bin/stable_token", s.handleStableToken)
	api("/cgi-bin/message/custom/send", s.handleCustomSend)
	api("/cgi-bin/message/custom/typing", s.handleTyping)
	api("/cgi-bin/message/template/send", s.handleTemplateSend)
	api("/cgi-bin/message/subscribe/bizsend", s.handleBizSend)
	api("/cgi-bin/user/info", s.handleUserInfo)
	api("/cgi-bin/user/get", s.handleUserList)
	api("/cgi-bin/menu/create", s.handleMenuCreate)
	api("/cgi-bin/menu/get", s.handleMenuGet)
	api("/cgi-bin/menu/delete", s.handleMenuDelete)
	api("/cgi-bin/qrcode/create", s.handleQRCreate)
	if s.corpID != "" {
		// WeCom's API lives on qyapi.weixin.qq.com; the SDK's URL rewrite sends both hosts here.
		api("/cgi-bin/gettoken", s.handleWeComToken)
		api("/cgi-bin/message/send", s.handleWeComSend)
	}
	api("/cgi-bin/", s.handleUnknownAPI)
	// Web authorisation: the authorize page is the user's browser's (open.weixin.qq.com),
	// the code exchange the service's API call.
	mux.HandleFunc("GET /connect/oauth2/authorize", s.handleAuthorize)
	api("/sns/oauth2/access_token", s.handleOAuthAccessToken)
	api("/sns/", s.handleUnknownAPI)

	mux.HandleFunc("POST /sim/api/send", s.handleSimSend)
	mux.HandleFunc("GET /sim/api/messages", s.handleSimMessages)
	mux.HandleFunc("GET /sim/api/faults", s.handleSimFaultsGet)
	mux.HandleFunc("POST /sim/api/faults", s.handleSimFaultsSet)
	mux.HandleFunc("GET /sim/api/stats", s.handleSimStats)
	mux.HandleFunc("GET /sim/api/state", s.handleSimState)
	mux.HandleFunc("POST /sim/api/verify", s.handleSimVerify)
	mux.HandleFunc("POST /sim/api/wecom/send", s.handleSimWeComSend)
	mux.HandleFunc("POST /sim/api/wecom/verify", s.handleSimWeComVerify)

	s.pageRoutes(mux)
	return mux
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// randInt returns a uniform random int64 in [0, n).
func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+ crashes instead).
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return v.Int64()
}

// randString returns n random characters from alphabet.
func randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randInt(int64(len(alphabet)))]
	}
	return string(b)
}

// randToken returns n random bytes encoded for URLs, the alphabet of WeChat's tokens and tickets.
func randToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails, see randInt
	return base64.RawURLEncoding.EncodeToString(b)
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	digits = "0123456789"
)

// newMsgIDLocked returns a fresh, unique, WeChat-sized MsgId. s.mu must be held.
func (s *Simulator) newMsgIDLocked() int64 {
	s.nextMsgID += 1 + randInt(1000)
	return s.nextMsgID
}

// newTemplateMsgIDLocked returns a fresh template msgid. s.mu must be held.
func (s *Simulator) newTemplateMsgIDLocked() int64 {
	s.nextTplID += 1 + randInt(1000)
	return s.nextTplID
}

// userLocked returns the user with openid, creating an unknown, unsubscribed one. s.mu must
// be held.
func (s *Simulator) userLocked(openid string) *user {
	u, ok := s.users[openid]
	if !ok {
		u = &user{openID: openid}
		s.users[openid] = u
	}
	return u
}
