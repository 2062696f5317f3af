// Base URLs of the namespaces the Aio-1.0 reference links to; gi-docgen's
// pages resolve links such as [class@Gio.Task] with this map.
baseURLs = [
  ['GLib', 'https://docs.gtk.org/glib/'],
  ['GObject', 'https://docs.gtk.org/gobject/'],
  ['Gio', 'https://docs.gtk.org/gio/'],
]
