/*
 * pkt.h - VRRPv3 advertisement codec (RFC 5798 §5, RFC 9568 §5).
 *
 * Pure: encodes into and decodes from caller buffers, never touches a
 * socket. The IP header (TTL / hop limit) is checked by the socket layer.
 *
 *   0                   1                   2                   3
 *   |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
 *   |(rsvd) |     Max Adver Int     |          Checksum             |
 *   |                       IPvX Address(es)                        |
 */
#ifndef VIPD_PKT_H
#define VIPD_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define VRRP_VERSION     3
#define VRRP_TYPE_ADVERT 1
#define VRRP_PROTO       112 /* IPPROTO_VRRP */
#define VRRP_HDR_LEN     8
#define VRRP_TTL         255
#define VRRP_MAX_ADDRS   255
#define VRRP_VERSION2    2 /* RFC 3768, IPv4 only */
#define VRRP_AUTH_LEN    8 /* RFC 3768 §5.3.10: Authentication Data, 8 bytes */
#define VRRP_MCAST4      "224.0.0.18"
#define VRRP_MCAST6      "ff02::12"
/* Largest advert: header + 255 IPv6 addresses (a v2 advert is smaller). */
#define VRRP_PKT_MAX (VRRP_HDR_LEN + VRRP_MAX_ADDRS * 16)

/*
 * How the IPv4 checksum is computed when sending. RFC 5798 §5.2.8 is read
 * by keepalived, FRR, Wireshark and scapy as including a pseudo-header
 * (src, dst, 0, 112, length) for IPv4 as for IPv6; RFC 9568 §5.2.8 and
 * Cisco / Arista checksum the VRRP message alone. IPv6 always uses the
 * pseudo-header (RFC 8200 §8.1). On receive both IPv4 forms are accepted.
 */
enum vrrp_cksum {
	CKSUM_RFC5798 = 0, /* with pseudo-header (default) */
	CKSUM_RFC9568,     /* VRRP message only */
};

/*
 * Why a received packet was dropped. One table for the whole receive path:
 * the codec returns the first few, the socket / instance layer the rest.
 * Indexes the per-instance counters; names are the JSON keys.
 */
enum vrrp_drop {
	DROP_SHORT = 0,  /* shorter than the header or its address list */
	DROP_VERSION,    /* version != 3 (CARP / VRRPv2) */
	DROP_TYPE,       /* type != ADVERTISEMENT */
	DROP_ADDR_COUNT, /* count of addresses is 0 */
	DROP_INTERVAL,   /* Max Adver Int is 0 */
	DROP_CHECKSUM,   /* neither checksum form matches */
	DROP_TTL,        /* TTL / hop limit != 255 (multicast, or unicast_ttl_check) */
	DROP_VRID,       /* VRID not configured on this interface */
	DROP_PEER,       /* unicast mode: source is not a configured peer */
	DROP_FAMILY,     /* address family does not match */
	DROP_DEST,       /* multicast mode: not sent to 224.0.0.18 / ff02::12 */
	DROP_SOURCE,     /* multicast mode, IPv6: source not link-local */
	DROP_OWN_ADDR,   /* our own source address, not sent by us (multicast loop is off) */
	DROP_AUTH,       /* VRRPv2: Auth Type or password differs from ours */
	DROP_MAX
};

extern const char *const vrrp_drop_names[DROP_MAX];

/* A decoded advertisement, host byte order. */
struct vrrp_adv {
	int family;
	uint8_t version;
	uint8_t type;
	uint8_t vrid;
	uint8_t priority;
	uint8_t naddr;
	uint16_t max_adver_int_cs; /* centiseconds, 12 bits (v2: Adver Int s x 100) */
	uint8_t auth_type;         /* v2 only: Auth Type (RFC 3768 §5.3.6) */
	uint16_t checksum;
	bool cksum_pseudo;    /* IPv4: the pseudo-header form matched */
	const uint8_t *addrs; /* naddr x addr_len(family) bytes, inside the input */
};

/*
 * VRRPv2 authentication (RFC 3768 §5.3.6, §10): type 0 (none) or 1
 * (a clear-text password, zero-padded to 8 bytes). Type 2 (IP AH) was
 * dropped by RFC 3768 and is not supported. Not security: the password
 * is on the wire for anyone on the link to read.
 */
enum vrrp_auth { AUTH_NONE = 0, AUTH_PASS = 1, AUTH_AH = 2 };

struct pkt_auth {
	uint8_t type; /* AUTH_NONE or AUTH_PASS */
	uint8_t data[VRRP_AUTH_LEN];
};

/* What an advert says (pkt_encode). */
struct pkt_msg {
	int family;
	uint8_t vrid;
	uint8_t priority;
	uint16_t max_adver_int_cs; /* centiseconds, 1..4095 */
	const struct vip *vips;    /* all of `family` */
	size_t nvips;              /* 1..VRRP_MAX_ADDRS */
	const union inaddr *src;   /* for the checksum's pseudo-header */
	const union inaddr *dst;
	enum vrrp_cksum cksum; /* v3 IPv4 only */
	/* VRRPv2 (RFC 3768) when version == 2; 0 or 3 = VRRPv3. */
	uint8_t version;
	const struct pkt_auth *auth; /* v2: NULL = Auth Type 0 */
};

/*
 * Encode the advertisement m describes into buf. Returns the length
 * written, or -1 if cap is too small or m is invalid (nvips 0 or > 255,
 * interval 0 or > 4095, a VIP of another family).
 */
ssize_t pkt_encode(uint8_t *buf, size_t cap, const struct pkt_msg *m);

/*
 * Decode and verify buf[0..len) received from src to dst. Returns 0 and
 * fills *adv, or returns -1 and sets *drop to the reason. Checks length,
 * version, type, address count, interval and checksum (IPv4: either form).
 */
int pkt_decode(const uint8_t *buf, size_t len, int family, const union inaddr *src,
               const union inaddr *dst, struct vrrp_adv *adv, enum vrrp_drop *drop);

/*
 * Decode and verify a VRRPv2 advert (RFC 3768 §5, §7.1) received over
 * IPv4: version 2, type, address count, interval, length including the
 * 8 bytes of Authentication Data, the checksum over the message alone,
 * and the Auth Type and password against auth (a mismatch: DROP_AUTH).
 * A VRRPv3 advert here is DROP_VERSION. Returns 0 or -1 and *drop.
 */
int pkt_decode_v2(const uint8_t *buf, size_t len, const struct pkt_auth *auth, struct vrrp_adv *adv,
                  enum vrrp_drop *drop);

/*
 * The Internet checksum of a VRRP message, with the pseudo-header when
 * `pseudo` (always for IPv6). The checksum field in buf is included as is,
 * so a correct packet sums to 0.
 */
uint16_t pkt_checksum(const uint8_t *buf, size_t len, int family, const union inaddr *src,
                      const union inaddr *dst, bool pseudo);

/* True if the advert's address list equals vips (same set, same order ignored). */
bool pkt_addrs_match(const struct vrrp_adv *adv, const struct vip *vips, size_t nvips);

#endif
