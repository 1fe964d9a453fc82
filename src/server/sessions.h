#ifndef YUBIN_SERVER_SESSIONS_H
#define YUBIN_SERVER_SESSIONS_H

#include <sys/socket.h>

#include "server/server.h"

/* Entry points of the protocol sessions, called by the listeners. */
void smtp_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service);
void imap_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service);
void pop3_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service);
void managesieve_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service);

#endif
