#!/usr/bin/python3
"""A real RTSP server for tests: gst-rtsp-server on 127.0.0.1.

Mounts /test (a live test pattern, H.264) and, with --media FILE, /media (that file re-encoded
to H.264, so any container and codec GStreamer reads can be served). With --user/--password the
mounts require basic authentication. Prints "READY <port>" on stdout once it listens; runs until
killed. Started by test/support/rtsp-server.ts.
"""
import argparse
import socket
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ENCODE = ('videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 '
          'bframes=0 ! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def factory(launch, auth):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(f'( {launch} )')
    if auth:
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role('tester', 'media.factory.access', True)
        perms.add_permission_for_role('tester', 'media.factory.construct', True)
        f.set_permissions(perms)
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--media')
    ap.add_argument('--width', type=int, default=320)
    ap.add_argument('--height', type=int, default=240)
    ap.add_argument('--fps', type=int, default=15)
    ap.add_argument('--user')
    ap.add_argument('--password')
    args = ap.parse_args()

    Gst.init(None)
    port = args.port or free_port()
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(port))

    auth = None
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string('media.factory.role', 'tester')
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ''), token)
        server.set_auth(auth)

    mounts = server.get_mount_points()
    pattern = (f'videotestsrc is-live=true pattern=ball ! video/x-raw,width={args.width},'
               f'height={args.height},framerate={args.fps}/1 ! {ENCODE}')
    mounts.add_factory('/test', factory(pattern, auth))
    if args.media:
        location = args.media.replace('\\', '\\\\').replace('"', '\\"')
        media = f'filesrc location="{location}" ! decodebin ! {ENCODE}'
        mounts.add_factory('/media', factory(media, auth))

    if server.attach(None) == 0:
        print(f'cannot listen on 127.0.0.1:{port}', file=sys.stderr, flush=True)
        sys.exit(1)
    print(f'READY {port}', flush=True)
    GLib.MainLoop().run()


if __name__ == '__main__':
    main()
