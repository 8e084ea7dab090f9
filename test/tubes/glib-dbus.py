"""GLib's own D-Bus message parser, for test/tubes/dbus-glib.test.ts.

stdin: JSON {"blobs": [hex, ...]}. stdout: JSON {"parsed": [...], "built": {...}}:
- parsed[i] is {"ok": true, "blob": hex of GLib's to_blob, "text": print_()} or {"ok": false, "error": text}
  for each input blob, as Gio.DBusMessage.new_from_blob read it;
- built maps a name to hex blobs GLib composed itself (both byte orders), for us to decode;
- own[i], for each {"signature", "text", "order"} in the optional "texts": GLib's own encoding of that body
  (GVariant text form) in a method call, and whether GLib then reads its own blob back:
  {"body": hex of the body bytes, "reread": true | error text}.
"""
import json
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NONE = Gio.DBusCapabilityFlags.NONE


def parse(hex_blob):
    try:
        message = Gio.DBusMessage.new_from_blob(bytes.fromhex(hex_blob), NONE)
        return {"ok": True, "blob": bytes(message.to_blob(NONE)).hex(), "text": message.print_(0)}
    except GLib.Error as error:
        return {"ok": False, "error": error.message}


def built():
    call = Gio.DBusMessage.new_method_call(":1.7", "/org/example/Obj", "org.example.Iface", "Frob")
    call.set_body(GLib.Variant("(sa{sv}(ynqiiux)d)", (
        "héllo ☃", {"k": GLib.Variant("ay", b"\x00\x01\xff"), "n": GLib.Variant("as", ["a", "b"])},
        (255, -32768, 65535, 2147483647, -2147483648, 4294967295, -9223372036854775808),
        -1.5,
    )))
    call.set_serial(42)
    call.set_flags(Gio.DBusMessageFlags.NO_REPLY_EXPECTED)
    reply = Gio.DBusMessage.new_method_reply(call)
    reply.set_body(GLib.Variant("(taoagbv)", (18446744073709551615, ["/", "/a/b_1"], ["a{sv}", "(ii)"], True, GLib.Variant("v", GLib.Variant("i", 5)))))
    reply.set_serial(43)
    error = Gio.DBusMessage.new_method_error_literal(call, "org.example.Error.Nope", "no")
    error.set_serial(44)
    signal = Gio.DBusMessage.new_signal("/", "org.example.Iface", "Changed")
    signal.set_serial(45)
    quirk = Gio.DBusMessage.new_method_call(None, "/a", None, "M")
    quirk.set_body(GLib.Variant("(a(v)y)", ([(GLib.Variant("ax", []),), (GLib.Variant("y", 2),)], 5)))
    quirk.set_serial(46)
    out = {}
    for name, message in {"call": call, "reply": reply, "error": error, "signal": signal, "quirk": quirk}.items():
        for order, tag in ((Gio.DBusMessageByteOrder.LITTLE_ENDIAN, "little"), (Gio.DBusMessageByteOrder.BIG_ENDIAN, "big")):
            message.set_byte_order(order)
            out[f"{name}-{tag}"] = bytes(message.to_blob(NONE)).hex()
    return out


def own(item):
    body = GLib.Variant.parse(GLib.VariantType.new("(" + item["signature"] + ")"), item["text"], None, None)
    message = Gio.DBusMessage.new_method_call(None, "/a", None, "m")
    message.set_body(body)
    order = Gio.DBusMessageByteOrder.LITTLE_ENDIAN if item["order"] == "little" else Gio.DBusMessageByteOrder.BIG_ENDIAN
    message.set_byte_order(order)
    blob = bytes(message.to_blob(NONE))
    little = blob[0] == 0x6C
    fields_length = int.from_bytes(blob[12:16], "little" if little else "big")
    body_length = int.from_bytes(blob[4:8], "little" if little else "big")
    start = (16 + fields_length + 7) // 8 * 8
    try:
        Gio.DBusMessage.new_from_blob(blob, NONE)
        reread = True
    except GLib.Error as error:
        reread = error.message
    return {"body": blob[start:start + body_length].hex(), "reread": reread}


request = json.load(sys.stdin)
json.dump({
    "parsed": [parse(b) for b in request["blobs"]],
    "built": built(),
    "own": [own(t) for t in request.get("texts", [])],
}, sys.stdout)
