"""Japanese headings for the views' column names (the JSON API and the CSV keep the names;
a page in Japanese shows these, with the name itself as the heading's tooltip)."""

from __future__ import annotations

#: column name -> Japanese heading
COLUMNS_JA: dict[str, str] = {
    "at": "時刻", "both": "両方", "bots": "ボット数", "c2": "C2", "c2s": "C2数",
    "cf_high": "反実仮想 上限", "cf_low": "反実仮想 下限", "chain": "移行の連鎖",
    "chosen": "採用", "ci_high": "95%区間 上限", "ci_low": "95%区間 下限",
    "ci_high_with_drift": "上限（変動込み）", "ci_low_with_drift": "下限（変動込み）",
    "comparison": "比較対象", "count": "件数", "counterfactual": "反実仮想",
    "cum_share": "累積割合", "cve": "CVE", "cves": "CVE", "cvss": "CVSS", "day": "日",
    "devices": "機器数", "difference": "差", "direction": "望ましい方向", "effect": "効果",
    "either": "いずれか", "end": "終了", "estimate": "推定値", "evidence": "根拠",
    "expires": "有効期限", "family": "ファミリー", "first_seen": "初観測", "fitted": "当てはめ値",
    "hac_lags": "HACラグ", "high": "上限", "id": "ID", "infected": "感染", "isp": "ISP",
    "isp_a": "ISP A", "isp_b": "ISP B", "isps": "ISP数", "item": "項目", "jaccard": "Jaccard係数",
    "kev": "KEV", "kev_cve": "KEV該当CVE", "kind": "種別", "kpi": "KPI", "last_seen": "最終観測",
    "latest_national": "最新値（全国）", "latest_period": "最新期間", "level": "レベル",
    "level_change": "水準の変化", "lineage": "系統", "lineages": "系統数", "low": "下限",
    "lower_95": "95%下限", "measure": "指標", "met": "達成", "method": "手法", "model": "機種",
    "n": "件数", "name_en": "名称（英語）", "name_ja": "名称", "not_estimable": "推定不能",
    "observed": "観測値", "only_isp": "単独で観測したISP", "outcome": "結果",
    "outdated": "最新でないファームウェア", "owner": "担当", "p_value": "p値", "period": "期間",
    "phase": "局面", "placebo_rms": "プラセボRMS", "post_days": "介入後日数",
    "pre_days": "介入前日数", "pref_code": "都道府県コード", "prefecture": "都道府県",
    "rank": "順位", "reason": "理由", "registered": "登録日", "registration": "登録番号",
    "round": "調査回", "scope": "範囲", "severity": "深刻度", "share": "割合",
    "share_of_all_infections": "全感染に占める割合", "slope_change": "傾きの変化",
    "source": "出所", "start": "開始", "status": "状態", "target": "目標", "treated": "処置群",
    "unit": "単位", "unseen": "未観測", "upper_95": "95%上限", "value": "値", "vendor": "メーカー",
    "version": "バージョン", "what": "内容", "your_bots": "自社のボット",
    "weak": "脆弱な認証", "vulnerable": "脆弱なファームウェア", "labelled": "ラベル取得",
}  # fmt: skip


def heading(column: str, lang: str) -> str:
    """The heading of ``column`` in ``lang`` (the name itself where none is known)."""
    return COLUMNS_JA.get(column, column) if lang == "ja" else column
