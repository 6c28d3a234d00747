/*
 * fuzz_pkt.c - the advert decoder (vipd/pkt.c), both families, both
 * IPv4 checksum forms.
 *
 * Input: one flags byte, then the source and destination addresses (4 or
 * 16 bytes each, by family), then the VRRP message. Flag bits: 0 = IPv6;
 * 1 = fix the checksum before decoding, so that mutations reach what lies
 * past it; 2 = fix it in the RFC 9568 form (no pseudo-header) rather than
 * RFC 5798's. Properties: a decoded advert lies inside the input, matches
 * its own address list, and encodes back to a message that decodes to
 * the same fields.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "vipd/pkt.h"

static void
check_roundtrip(const struct vrrp_adv *adv, const union inaddr *src, const union inaddr *dst,
                bool pseudo)
{
	static struct vip vips[VRRP_MAX_ADDRS];
	static uint8_t out[VRRP_PKT_MAX];
	size_t alen = addr_len(adv->family);
	struct vrrp_adv again;
	enum vrrp_drop drop;
	ssize_t n;

	for (size_t i = 0; i < adv->naddr; i++) {
		vips[i] = (struct vip){.family = adv->family, .prefixlen = 24};
		memcpy(vips[i].addr.b, adv->addrs + i * alen, alen);
	}
	FUZZ_ASSERT(pkt_addrs_match(adv, vips, adv->naddr));
	struct pkt_msg m = {
	    .family = adv->family,
	    .vrid = adv->vrid,
	    .priority = adv->priority,
	    .max_adver_int_cs = adv->max_adver_int_cs,
	    .vips = vips,
	    .nvips = adv->naddr,
	    .src = src,
	    .dst = dst,
	    .cksum = pseudo ? CKSUM_RFC5798 : CKSUM_RFC9568,
	};
	n = pkt_encode(out, sizeof(out), &m);
	FUZZ_ASSERT(n == (ssize_t)(VRRP_HDR_LEN + adv->naddr * alen));
	FUZZ_ASSERT(pkt_decode(out, (size_t)n, adv->family, src, dst, &again, &drop) == 0);
	FUZZ_ASSERT(again.vrid == adv->vrid && again.priority == adv->priority &&
	            again.naddr == adv->naddr && again.max_adver_int_cs == adv->max_adver_int_cs);
	FUZZ_ASSERT(memcmp(again.addrs, adv->addrs, adv->naddr * alen) == 0);
	/* Too small a buffer is refused, never overrun. */
	FUZZ_ASSERT(pkt_encode(out, (size_t)n - 1, &m) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union inaddr src = {0}, dst = {0};
	struct vrrp_adv adv;
	enum vrrp_drop drop = DROP_MAX;
	int family;
	size_t alen, len;
	uint8_t *msg;

	if (size < 1)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	alen = addr_len(family);
	if (size < 1 + 2 * alen)
		return 0;
	memcpy(src.b, data + 1, alen);
	memcpy(dst.b, data + 1 + alen, alen);
	len = size - 1 - 2 * alen;
	/* An exact-size copy: ASan sees any read past the message. */
	msg = malloc(len ? len : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 1 + 2 * alen, len);
	if ((data[0] & 2) && len >= VRRP_HDR_LEN) {
		bool pseudo = family == AF_INET6 || !(data[0] & 4);
		uint16_t sum;

		msg[6] = msg[7] = 0;
		sum = pkt_checksum(msg, len, family, &src, &dst, pseudo);
		msg[6] = (uint8_t)(sum >> 8);
		msg[7] = (uint8_t)sum;
	}
	if (pkt_decode(msg, len, family, &src, &dst, &adv, &drop) == 0) {
		FUZZ_ASSERT(adv.family == family && adv.version == VRRP_VERSION &&
		            adv.type == VRRP_TYPE_ADVERT && adv.naddr > 0 &&
		            adv.max_adver_int_cs > 0);
		FUZZ_ASSERT(adv.addrs == msg + VRRP_HDR_LEN);
		FUZZ_ASSERT(VRRP_HDR_LEN + adv.naddr * alen <= len);
		FUZZ_ASSERT(family == AF_INET || adv.cksum_pseudo);
		check_roundtrip(&adv, &src, &dst, adv.cksum_pseudo);
	} else {
		FUZZ_ASSERT(drop < DROP_MAX);
	}
	/* Without addresses only the IPv4 RFC 9568 form can match. */
	if (pkt_decode(msg, len, family, NULL, NULL, &adv, &drop) == 0)
		FUZZ_ASSERT(family == AF_INET && !adv.cksum_pseudo);
	free(msg);
	return 0;
}
