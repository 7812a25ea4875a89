// Package wecom is Huimin's WeCom (企业微信) channel for officers: an officer configured for
// WeCom works tickets from the bureau's WeCom application instead of the Official Account,
// with the same one-line commands.
//
// Codec verifies and opens the application's callback requests (the GET URL check and the
// encrypted POSTs), and turns WeCom's XML into chat.Event with Channel chat.ChannelWeCom.
// Client sends application messages (text, textcard, markdown) through
// github.com/silenceper/wechat/v2/work/message with an access token shared by every
// instance through the store's cache.
//
// The SDK has no WeCom callback server, so Codec is built from util.Signature,
// util.DecryptMsg and util.EncryptMsg. The SDK's token handle caches behind an in-process
// mutex only and never refreshes a rejected token; Client replaces it (see token.go).
//
// Protocol reference:
//   - callback URL and encryption: https://developer.work.weixin.qq.com/document/path/90930
//   - receiving messages: https://developer.work.weixin.qq.com/document/path/90239
//   - events: https://developer.work.weixin.qq.com/document/path/90240
//   - passive replies: https://developer.work.weixin.qq.com/document/path/90241
//   - access token: https://developer.work.weixin.qq.com/document/path/91039
//   - application messages: https://developer.work.weixin.qq.com/document/path/90236
//   - return codes: https://developer.work.weixin.qq.com/document/path/90313
package wecom
