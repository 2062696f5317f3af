/* aio-socket.h: awaitable GSocket I/O on the loop's own descriptor watches
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_receive        (GSocket        *socket,
                                      void           *buffer,
                                      gsize           size) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_send           (GSocket        *socket,
                                      const void     *buffer,
                                      gsize           size) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_send_all       (GSocket        *socket,
                                      const void     *buffer,
                                      gsize           size) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_receive_bytes  (GSocket        *socket,
                                      gsize           max_size) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_send_bytes     (GSocket        *socket,
                                      GBytes         *bytes) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_send_all_bytes (GSocket        *socket,
                                      GBytes         *bytes) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_accept         (GSocket        *socket) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_socket_connect        (GSocket        *socket,
                                      GSocketAddress *address) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
