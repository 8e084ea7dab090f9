/** Examples quoted verbatim from ../shared/spec/clique-muc.md, shared by the tests that check them. */

/** §7.2: bob's tube list in the room lunch. */
export const SPEC_TUBE_LIST_EXAMPLE = `<message xmlns="jabber:client" type="groupchat" from="bob@desk" to="lunch">
  <tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">
    <tube service="com.example.Chess" id="1234567" type="dbus" stream-id="2"
          initiator="alice@laptop" dbus-name=":2.Ym9iQGRlc2sA">
      <parameters>
        <parameter name="board" type="uint">8</parameter>
      </parameters>
    </tube>
    <tube service="whiteboard" id="7654321" type="stream">
      <parameters/>
    </tube>
  </tubes>
</message>`;
