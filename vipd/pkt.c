/*
 * pkt.c - VRRP advertisement codec: VRRPv3 (RFC 5798 §5, RFC 9568 §5)
 * and VRRPv2 (RFC 3768 §5, IPv4 only, for peers not yet upgraded).
 *
 * Pure code: buffers in, buffers or a host-order struct out. Every read
 * of received bytes is preceded by a length check; the returned
 * struct points into the caller's buffer for the address list.
 */
#include "pkt.h"

#include <string.h>
#include <sys/socket.h>

const char *const vrrp_drop_names[DROP_MAX] = {
    [DROP_SHORT] = "short",       [DROP_VERSION] = "version",
    [DROP_TYPE] = "type",         [DROP_ADDR_COUNT] = "addr_count",
    [DROP_INTERVAL] = "interval", [DROP_CHECKSUM] = "checksum",
    [DROP_TTL] = "ttl",           [DROP_VRID] = "vrid",
    [DROP_PEER] = "peer",         [DROP_FAMILY] = "family",
    [DROP_DEST] = "destination",  [DROP_SOURCE] = "source",
    [DROP_OWN_ADDR] = "own_addr",
    [DROP_AUTH] = "auth",
};

#define VRRP_INTERVAL_MAX 0x0fff /* 12 bits, RFC 5798 §5.2.7 */
#define VRRP_CKSUM_OFF    6

/* One's-complement sum of big-endian 16-bit words; odd tail padded with 0. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	/* Fold now so a long run of calls cannot overflow 32 bits. */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * The pseudo-header's contribution. IPv6 (RFC 8200 §8.1): src, dst,
 * 32-bit length, 3 zero bytes, next header. IPv4 as keepalived / FRR /
 * Wireshark read RFC 5798 §5.2.8: src, dst, zero, protocol, 16-bit length.
 * Both add the same words apart from the width of the length field.
 */
static uint32_t
sum_pseudo(uint32_t sum, int family, const union inaddr *src, const union inaddr *dst, size_t len)
{
	uint8_t tail[8];
	size_t alen = addr_len(family);

	sum = sum16(sum, src->b, alen);
	sum = sum16(sum, dst->b, alen);
	if (family == AF_INET6) {
		tail[0] = (uint8_t)(len >> 24);
		tail[1] = (uint8_t)(len >> 16);
		tail[2] = (uint8_t)(len >> 8);
		tail[3] = (uint8_t)len;
		tail[4] = tail[5] = tail[6] = 0;
		tail[7] = VRRP_PROTO;
		return sum16(sum, tail, 8);
	}
	tail[0] = 0;
	tail[1] = VRRP_PROTO;
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	return sum16(sum, tail, 4);
}

uint16_t
pkt_checksum(const uint8_t *buf, size_t len, int family, const union inaddr *src,
             const union inaddr *dst, bool pseudo)
{
	uint32_t sum = 0;

	if (family == AF_INET6 || pseudo)
		sum = sum_pseudo(sum, family, src, dst, len);
	sum = sum16(sum, buf, len);
	return (uint16_t)~sum;
}

/*
 * RFC 3768 §5.1: version 2, Auth Type and an 8-bit Adver Int in seconds
 * where v3 has the 12-bit centisecond field, 8 bytes of Authentication
 * Data after the addresses, and a checksum over the VRRP message alone.
 */
static ssize_t
encode_v2(uint8_t *buf, size_t cap, const struct pkt_msg *m)
{
	size_t len = VRRP_HDR_LEN + m->nvips * 4 + VRRP_AUTH_LEN;
	unsigned secs = m->max_adver_int_cs / 100;
	uint16_t sum;

	if (m->family != AF_INET || m->nvips == 0 || m->nvips > VRRP_MAX_ADDRS ||
	    m->max_adver_int_cs % 100 != 0 || secs == 0 || secs > 255 || len > cap ||
	    (m->auth && m->auth->type != AUTH_NONE && m->auth->type != AUTH_PASS))
		return -1;
	for (size_t i = 0; i < m->nvips; i++)
		if (m->vips[i].family != AF_INET)
			return -1;

	buf[0] = VRRP_VERSION2 << 4 | VRRP_TYPE_ADVERT;
	buf[1] = m->vrid;
	buf[2] = m->priority;
	buf[3] = (uint8_t)m->nvips;
	buf[4] = m->auth ? m->auth->type : AUTH_NONE;
	buf[5] = (uint8_t)secs;
	buf[6] = buf[7] = 0;
	for (size_t i = 0; i < m->nvips; i++)
		memcpy(buf + VRRP_HDR_LEN + i * 4, m->vips[i].addr.b, 4);
	/* §5.3.10: zero unless a password is configured. */
	if (m->auth && m->auth->type == AUTH_PASS)
		memcpy(buf + len - VRRP_AUTH_LEN, m->auth->data, VRRP_AUTH_LEN);
	else
		memset(buf + len - VRRP_AUTH_LEN, 0, VRRP_AUTH_LEN);

	sum = pkt_checksum(buf, len, AF_INET, NULL, NULL, false);
	buf[VRRP_CKSUM_OFF] = (uint8_t)(sum >> 8);
	buf[VRRP_CKSUM_OFF + 1] = (uint8_t)sum;
	return (ssize_t)len;
}

ssize_t
pkt_encode(uint8_t *buf, size_t cap, const struct pkt_msg *m)
{
	int family = m->family;
	const struct vip *vips = m->vips;
	size_t nvips = m->nvips;
	uint16_t max_adver_int_cs = m->max_adver_int_cs;
	const union inaddr *src = m->src, *dst = m->dst;
	enum vrrp_cksum mode = m->cksum;
	size_t alen = addr_len(family);
	size_t len = VRRP_HDR_LEN + nvips * alen;
	bool pseudo = family == AF_INET6 || mode == CKSUM_RFC5798;
	uint16_t sum;

	if (m->version == VRRP_VERSION2)
		return encode_v2(buf, cap, m);
	if (!alen || nvips == 0 || nvips > VRRP_MAX_ADDRS || max_adver_int_cs == 0 ||
	    max_adver_int_cs > VRRP_INTERVAL_MAX || len > cap || (pseudo && (!src || !dst)))
		return -1;
	for (size_t i = 0; i < nvips; i++)
		if (vips[i].family != family)
			return -1;

	buf[0] = VRRP_VERSION << 4 | VRRP_TYPE_ADVERT;
	buf[1] = m->vrid;
	buf[2] = m->priority;
	buf[3] = (uint8_t)nvips;
	/* The 4 reserved bits (RFC 5798 §5.2.6) are sent as zero. */
	buf[4] = (uint8_t)(max_adver_int_cs >> 8);
	buf[5] = (uint8_t)max_adver_int_cs;
	buf[6] = buf[7] = 0;
	for (size_t i = 0; i < nvips; i++)
		memcpy(buf + VRRP_HDR_LEN + i * alen, vips[i].addr.b, alen);

	sum = pkt_checksum(buf, len, family, src, dst, pseudo);
	buf[VRRP_CKSUM_OFF] = (uint8_t)(sum >> 8);
	buf[VRRP_CKSUM_OFF + 1] = (uint8_t)sum;
	return (ssize_t)len;
}

/*
 * RFC 5798 §5.2.8 vs RFC 9568 §5.2.8: for IPv4 accept the pseudo-header
 * form (tried first: it is what keepalived and FRR send by default) or
 * the message alone, and remember which one matched so the instance can
 * report what its peers speak. IPv6 has only the pseudo-header form.
 */
static int
check_sum(const uint8_t *buf, size_t len, int family, const union inaddr *src,
          const union inaddr *dst, struct vrrp_adv *adv)
{
	bool have_ips = src && dst;

	if (have_ips && pkt_checksum(buf, len, family, src, dst, true) == 0) {
		adv->cksum_pseudo = true;
		return 0;
	}
	if (family == AF_INET && pkt_checksum(buf, len, family, src, dst, false) == 0) {
		adv->cksum_pseudo = false;
		return 0;
	}
	return -1;
}

/* Fields of the fixed header; buf holds at least VRRP_HDR_LEN bytes. */
static int
parse_header(const uint8_t *buf, struct vrrp_adv *adv, enum vrrp_drop *drop)
{
	adv->version = buf[0] >> 4;
	adv->type = buf[0] & 0x0f;
	adv->vrid = buf[1];
	adv->priority = buf[2];
	adv->naddr = buf[3];
	adv->max_adver_int_cs = (uint16_t)((buf[4] & 0x0f) << 8 | buf[5]);
	adv->checksum = (uint16_t)(buf[6] << 8 | buf[7]);

	/* RFC 5798 §7.1: version 2 here is VRRPv2 or CARP (same protocol). */
	if (adv->version != VRRP_VERSION)
		*drop = DROP_VERSION;
	else if (adv->type != VRRP_TYPE_ADVERT)
		*drop = DROP_TYPE;
	else if (adv->naddr == 0)
		*drop = DROP_ADDR_COUNT;
	else if (adv->max_adver_int_cs == 0)
		*drop = DROP_INTERVAL;
	else
		return 0;
	return -1;
}

int
pkt_decode(const uint8_t *buf, size_t len, int family, const union inaddr *src,
           const union inaddr *dst, struct vrrp_adv *adv, enum vrrp_drop *drop)
{
	size_t alen = addr_len(family);

	memset(adv, 0, sizeof(*adv));
	adv->family = family;
	if (!alen) {
		*drop = DROP_FAMILY;
		return -1;
	}
	if (len < VRRP_HDR_LEN) {
		*drop = DROP_SHORT;
		return -1;
	}
	if (parse_header(buf, adv, drop) < 0)
		return -1;
	if (len < VRRP_HDR_LEN + (size_t)adv->naddr * alen) {
		*drop = DROP_SHORT;
		return -1;
	}
	/*
	 * Bytes past the address list are not allowed by the RFC but are
	 * accepted; they are part of what the sender checksummed, so the
	 * sum runs over all len bytes.
	 */
	if (check_sum(buf, len, family, src, dst, adv) < 0) {
		*drop = DROP_CHECKSUM;
		return -1;
	}
	adv->addrs = buf + VRRP_HDR_LEN;
	return 0;
}

int
pkt_decode_v2(const uint8_t *buf, size_t len, const struct pkt_auth *auth, struct vrrp_adv *adv,
              enum vrrp_drop *drop)
{
	uint8_t want = auth ? auth->type : AUTH_NONE;

	memset(adv, 0, sizeof(*adv));
	adv->family = AF_INET;
	if (len < VRRP_HDR_LEN) {
		*drop = DROP_SHORT;
		return -1;
	}
	adv->version = buf[0] >> 4;
	adv->type = buf[0] & 0x0f;
	adv->vrid = buf[1];
	adv->priority = buf[2];
	adv->naddr = buf[3];
	adv->auth_type = buf[4];
	adv->max_adver_int_cs = (uint16_t)(buf[5] * 100);
	adv->checksum = (uint16_t)(buf[6] << 8 | buf[7]);

	/*
	 * A VRRPv3 peer. CARP also says version 2 and type 1; it is told
	 * apart only by its length, checksum or auth data not fitting.
	 */
	if (adv->version != VRRP_VERSION2)
		*drop = DROP_VERSION;
	else if (adv->type != VRRP_TYPE_ADVERT)
		*drop = DROP_TYPE;
	else if (adv->naddr == 0)
		*drop = DROP_ADDR_COUNT;
	else if (adv->max_adver_int_cs == 0)
		*drop = DROP_INTERVAL;
	else if (len < VRRP_HDR_LEN + (size_t)adv->naddr * 4 + VRRP_AUTH_LEN)
		*drop = DROP_SHORT;
	/* §5.3.8: the message alone, no pseudo-header; trailing bytes included. */
	else if (pkt_checksum(buf, len, AF_INET, NULL, NULL, false) != 0)
		*drop = DROP_CHECKSUM;
	/* §7.1: "MUST verify that the Auth Type matches"; then the password. */
	else if (adv->auth_type != want ||
	         (want == AUTH_PASS && memcmp(buf + VRRP_HDR_LEN + (size_t)adv->naddr * 4,
	                                      auth->data, VRRP_AUTH_LEN) != 0))
		*drop = DROP_AUTH;
	else {
		adv->addrs = buf + VRRP_HDR_LEN;
		return 0;
	}
	return -1;
}

static bool
adv_has(const struct vrrp_adv *adv, size_t alen, const union inaddr *a)
{
	for (size_t i = 0; i < adv->naddr; i++)
		if (memcmp(adv->addrs + i * alen, a->b, alen) == 0)
			return true;
	return false;
}

static bool
vips_have(const struct vip *vips, size_t nvips, int family, const uint8_t *a)
{
	size_t alen = addr_len(family);

	for (size_t i = 0; i < nvips; i++)
		if (vips[i].family == family && memcmp(vips[i].addr.b, a, alen) == 0)
			return true;
	return false;
}

bool
pkt_addrs_match(const struct vrrp_adv *adv, const struct vip *vips, size_t nvips)
{
	size_t alen = addr_len(adv->family);

	if (!alen || !adv->addrs || adv->naddr != nvips)
		return false;
	/* Same set in any order: each side contains the other. O(n^2), n <= 255. */
	for (size_t i = 0; i < nvips; i++)
		if (vips[i].family != adv->family || !adv_has(adv, alen, &vips[i].addr))
			return false;
	for (size_t i = 0; i < adv->naddr; i++)
		if (!vips_have(vips, nvips, adv->family, adv->addrs + i * alen))
			return false;
	return true;
}
