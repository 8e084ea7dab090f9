#!/usr/bin/python3
"""A XEP-0174 peer that speaks XEP-0066 out-of-band file transfer and is not
ours: written from the wire description (spec clique-muc.md §6.4 and §8), with
python's http.server and a raw XML stream, the way salut and iChat behave.

  oob-peer.py send NAME ADDR PEER_NAME PEER_ADDR PEER_PORT FILE
      serve FILE over HTTP on ADDR, open a stream to the peer from ADDR, offer
      it as salut does (id gibber-file-transfer-0), print the answer as JSON.
  oob-peer.py receive NAME ADDR OUT [decline]
      listen on ADDR, print {"port": P}, take the peer's stream, wait for an
      OOB offer; fetch it as iChat does (Accept-Encoding: AppleSingle) into
      OUT and answer result; or decline as iChat does (406 in `type`).
"""
import hashlib
import http.client
import http.server
import json
import re
import socket
import sys
import threading
import urllib.parse

HEADER = ("<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to=\"{to}\" from=\"{frm}\" version=\"1.0\">")


def say(obj):
    print(json.dumps(obj), flush=True)


def read_until(sock, pattern, buf):
    while True:
        m = re.search(pattern, buf, re.S)
        if m:
            return m, buf
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("stream closed; had: " + buf[-500:])
        buf += chunk.decode('utf-8')


def send(name, addr, peer, peer_addr, peer_port, path):
    data = open(path, 'rb').read()
    quoted = urllib.parse.quote(path.rsplit('/', 1)[-1])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != '/gibber-file-transfer-0/' + quoted:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((addr, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = 'http://%s:%d/gibber-file-transfer-0/%s' % (addr, server.server_address[1], quoted)
    sock = socket.create_connection((peer_addr, int(peer_port)), source_address=(addr, 0))
    sock.sendall(HEADER.format(to=peer, frm=name).encode())
    buf = ''
    _, buf = read_until(sock, r'<stream:stream[^>]*>', buf)
    sock.sendall(b'<stream:features/>')
    # Salut's offer (spec §8.1), with iChat's leading newline in the URL text.
    offer = ('<iq type="set" id="gibber-file-transfer-0" from="%s" to="%s"><query xmlns="jabber:iq:oob">'
             '<url type="file" mimeType="application/octet-stream" size="%d">\n%s</url><desc>from python</desc></query></iq>'
             % (name, peer, len(data), url))
    sock.sendall(offer.encode())
    m, buf = read_until(sock, r'<iq[^>]*id=["\']gibber-file-transfer-0["\'][^>]*(/>|>.*?</iq>)', buf)
    stanza = m.group(0)
    kind = re.search(r'type=["\'](\w+)["\']', stanza).group(1)
    say({'answer': kind, 'stanza': stanza})
    sock.sendall(b'</stream:stream>')
    sock.close()
    server.shutdown()


def receive(name, addr, out, decline):
    listener = socket.socket()
    listener.bind((addr, 0))
    listener.listen(1)
    say({'port': listener.getsockname()[1]})
    sock, _ = listener.accept()
    buf = ''
    m, buf = read_until(sock, r'<stream:stream[^>]*>', buf)
    peer = re.search(r'from=["\']([^"\']+)["\']', m.group(0)).group(1)
    sock.sendall(HEADER.format(to=peer, frm=name).encode() + b'<stream:features/>')
    m, buf = read_until(sock, r'<iq[^>]*>.*?</iq>', buf)
    iq = m.group(0)
    iq_id = re.search(r'id=["\']([^"\']+)["\']', iq).group(1)
    url = re.search(r'<url[^>]*>\s*([^<]+)</url>', iq).group(1).replace('&amp;', '&')
    size = int(re.search(r'size=["\'](\d+)["\']', iq).group(1))
    if decline:
        sock.sendall(('<iq type="error" id="%s" from="%s" to="%s"><error type="406"/></iq>' % (iq_id, name, peer)).encode())
        say({'declined': True, 'url': url})
    else:
        # From our own address, as a peer on a LAN does (the sender serves only its contact's addresses).
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, source_address=(addr, 0), timeout=30)
        connection.request('GET', parts.path, headers={'Accept-Encoding': 'AppleSingle'})
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit('HTTP %d' % response.status)
        encoding = response.headers.get('Content-Encoding')
        body = response.read()
        connection.close()
        header = body[:38]
        apple = (encoding == 'AppleSingle' and header[:8] == bytes.fromhex('0005160000020000')
                 and header[24:26] == b'\x00\x01' and int.from_bytes(header[26:30], 'big') == 1
                 and int.from_bytes(header[30:34], 'big') == 38 and int.from_bytes(header[34:38], 'big') == size)
        content = body[38:] if apple else body
        with open(out, 'wb') as f:
            f.write(content)
        sock.sendall(('<iq type="result" id="%s" from="%s" to="%s"/>' % (iq_id, name, peer)).encode())
        say({'received': len(content), 'sha256': hashlib.sha256(content).hexdigest(), 'appleSingle': apple, 'url': url})
    # Stay until the peer closes its side.
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


if __name__ == '__main__':
    if sys.argv[1] == 'send':
        send(*sys.argv[2:8])
    else:
        receive(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == 'decline')
