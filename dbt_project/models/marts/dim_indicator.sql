-- The indicator catalogue (indicators.csv), in English column names.
select
    ma_chi_tieu as indicator_code,
    tru_cot as pillar,
    ten as name_vi,
    name_en,
    don_vi_tinh as unit,
    nguon as source,
    cast(trong_so as integer) as weight,
    ap_dung as applies_to,
    tu_so as numerator_definition,
    mau_so as denominator_definition,
    dieu_khoan as plan_clause
from {{ ref('indicators') }}
