// Package wechat speaks the Official Account protocol for Huimin, on top of
// github.com/silenceper/wechat/v2: it verifies and opens webhook requests
// (plain, compatible and safe mode), turns WeChat's XML into chat.Event,
// renders passive replies, and sends customer-service, template and
// subscribe messages with a shared access token.
//
// It uses the SDK's building blocks (util.Signature, util.EncryptMsg,
// util.DecryptMsg, the message structs and API clients) but not its
// server.Server: Serve writes the HTTP response itself, gives no status
// codes on failure, has no hook between decoding and handling where
// de-duplication belongs, and builds replies by reflection.
//
// Never import the SDK's root package: its init() sets logrus to Debug on
// stdout, which would log every decrypted citizen message.
//
// Protocol reference: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
package wechat
