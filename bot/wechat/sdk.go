package wechat

import (
	"net/http"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// API hosts hard-coded in the SDK's URLs: the Official Account's and WeCom's.
const (
	OfficialAPIBase = "https://api.weixin.qq.com"
	WeComAPIBase    = "https://qyapi.weixin.qq.com"
)

// ConfigureSDK sets the SDK's two process-wide knobs: the HTTP client (the
// SDK's default has no timeout) and, when baseURL is not WeChat's own, a
// URL rewrite that points every SDK request, Official Account and WeCom
// alike, at it (the simulator, tests). Call it once at start-up, before
// any goroutine uses the SDK.
func ConfigureSDK(baseURL string, timeout time.Duration) {
	util.DefaultHTTPClient = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: timeout,
		},
	}
	base := strings.TrimRight(baseURL, "/")
	if base == "" || base == OfficialAPIBase {
		util.SetURIModifier(nil)
		return
	}
	util.SetURIModifier(func(u string) string {
		if rest, ok := strings.CutPrefix(u, OfficialAPIBase); ok {
			return base + rest
		}
		if rest, ok := strings.CutPrefix(u, WeComAPIBase); ok {
			return base + rest
		}
		return u
	})
}
