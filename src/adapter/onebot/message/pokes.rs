//! mirai's pokes: the name of a received poke, OneBot's type and id for a poke sent.

/// What an unknown poke is called on receive, as mirai-api-http calls it.
pub(super) const UNKNOWN_POKE: &str = "未知戳一戳";

/// mirai's pokes: name, poke type, id (-1 for the plain ones). For the two SVIP pokes that
/// share 126/2002 the first one is the name given on receive.
const POKES: &[(&str, i64, i64)] = &[
    ("ChuoYiChuo", 1, -1),
    ("BiXin", 2, -1),
    ("DianZan", 3, -1),
    ("XinSui", 4, -1),
    ("LiuLiuLiu", 5, -1),
    ("FangDaZhao", 6, -1),
    ("BaoBeiQiu", 126, 2011),
    ("Rose", 126, 2007),
    ("ZhaoHuanShu", 126, 2006),
    ("RangNiPi", 126, 2009),
    ("JieYin", 126, 2005),
    ("ShouLei", 126, 2004),
    ("GouYin", 126, 2003),
    ("ZhuaYiXia", 126, 2001),
    ("SuiPing", 126, 2002),
    ("QiaoMen", 126, 2002),
];

/// Poke names of older mirai cores (and of the mirai-api-http docs) and the current names.
const POKE_ALIASES: &[(&str, &str)] = &[
    ("Poke", "ChuoYiChuo"),
    ("ShowLove", "BiXin"),
    ("Like", "DianZan"),
    ("Heartbroken", "XinSui"),
    ("SixSixSix", "LiuLiuLiu"),
];

/// A poke's mirai name from OneBot's `type` and `id`.
pub(super) fn poke_name(kind: Option<i64>, id: Option<i64>) -> &'static str {
    let Some(kind) = kind else { return UNKNOWN_POKE };
    POKES
        .iter()
        .find(|(_, t, i)| *t == kind && (kind != 126 || Some(*i) == id))
        .map_or(UNKNOWN_POKE, |(name, _, _)| name)
}

/// OneBot's poke `type` and `id` for a mirai poke name; unknown names poke as `ChuoYiChuo`.
pub(super) fn poke_code(name: &str) -> (i64, i64) {
    let name = POKE_ALIASES.iter().find(|(old, _)| *old == name).map_or(name, |(_, new)| new);
    POKES.iter().find(|(n, _, _)| *n == name).map_or((1, -1), |(_, kind, id)| (*kind, *id))
}
