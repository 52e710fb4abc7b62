site-name = Signpost
finder-title = یوه ټولنیزه ډله ومومئ
finder-intro = ستاسو سره نږدې وړیا یا ارزانه ډلې: د خبرو کافې، د انګلیسي ټولګي، د ګرځیدو ډلې، د کډوالو ملاتړ، او نور.
language-label = ژبه
language-button = ژبه بدله کړئ
exit = له دې پاڼې ووځئ
exit-hint = له دې پاڼې ژر ووځئ
privacy = دا لارښود هیڅ شی د کورنیو چارو وزارت، پولیسو یا بل کوم ادارې سره نه شریکوي. ستاسو لټون نه ساتي او نه یې ثبتوي، او کوکیز نه کاروي.
skip = پایلو ته لاړ شئ
skip-main = اصلي منځپانګې ته لاړ شئ
postcode-label = پوسټ کوډ
postcode-hint = د بېلګې په توګه LS8 5AB. یوازې سیمه لکه LS8 هم کافي ده.
distance-label = واټن
distance-km = { $km } کیلومتره
use-location = پر ځای یې زما ځای وکاروئ
needs-legend = تاسو څه ته اړتیا لرئ؟
need-free = وړیا
need-childcare = د ماشومانو پاملرنه
need-evening-weekend = ماښام یا د اونۍ پای
need-no-gp = له ډاکټر (GP) سره نوم لیکنه اړینه نه ده
need-no-status = د کډوالۍ د حالت په اړه پوښتنه نه کوي
need-self-referral = زه پخپله ورسره اړیکه نیولی شم
need-interpreting = ژباړونکی
need-women = یوازې د ښځو لپاره
language-legend = هغه ډله چې دا ژبه وایي
any-language = هره ژبه
kinds-legend = د ډلې ډول
search-button = لټون
error-summary = یوه ستونزه شته
error-title = تېروتنه: { $title }
error-invalid-postcode = سم پوسټ کوډ ولیکئ، لکه LS8 5AB
error-unknown-postcode = دا پوسټ کوډ ونه موندل شو. وګورئ او بیا هڅه وکړئ
error-group-gone = دا ډله نور په لېست کې نشته. لاندې بیا ولټوئ.
error-no-page = په دې پته کې هېڅ پاڼه نشته. لاندې یوه ډله ولټوئ.
error-language = له لېست څخه یوه ژبه وټاکئ
error-location = موږ ونه شو کولی دا ځای وکاروو. پر ځای یې پوسټ کوډ ولیکئ
error-other = په لټون کې یو څه سم نه دي. وګورئ او بیا هڅه وکړئ
results-title = پایلې
results-count = { $count ->
    [0] هیڅ ډله ونه موندل شوه
    [one] ۱ ډله وموندل شوه
   *[other] { $count } ډلې وموندل شوې
}
results-near = د { $place } څخه تر { $km } کیلومترو پورې
no-results-hint = ډېر واټن یا لږ انتخابونه هڅه کړئ.
previous-page = مخکینۍ پاڼه
next-page = بله پاڼه
page-of = پاڼه { $page } له { $pages }
distance-away = { $km } کیلومتره لرې
meets = د ناستې وخت
cost = لګښت
cost-free = وړیا
cost-amount = په هره ناسته £{ $amount }
cost-paid = فیس لري
languages = ویل کېدونکې ژبې
contact = څنګه ګډون وکړئ
self-referral-yes = تاسو پخپله ورسره اړیکه نیولی شئ.
self-referral-no = له خپل GP یا لینک ورکر وغواړئ چې تاسو معرفي کړي.
phone = ټیلیفون
email = برېښنالیک
website = ویب پاڼه
places = ځایونه
capacity-accepting = نوي خلک مني
capacity-places = { $places ->
    [one] ۱ ځای
   *[other] { $places } ځایونه
}
capacity-not-accepting = اوس مهال نوي خلک نه مني
capacity-unknown = معلوم نه دی
confirmed = تایید شوی { $ago }
last-confirmed = وروستی تایید { $ago }
ago-today = نن
ago-days = { $n ->
    [one] ۱ ورځ مخکې
   *[other] { $n } ورځې مخکې
}
ago-weeks = { $n ->
    [one] ۱ اونۍ مخکې
   *[other] { $n } اونۍ مخکې
}
good-to-know = د پوهېدو وړ
fact-childcare = د ماشومانو پاملرنه شته
fact-no-gp = له GP سره نوم لیکنه اړینه نه ده
fact-no-status = د کډوالۍ حالت نه پوښتل کېږي
fact-interpreting-professional = مسلکي ژباړونکي
fact-interpreting-volunteer = رضاکار ژباړونکي
fact-step-free = بې زینو لاسرسی
fact-travel-paid = د سفر لګښت ورکول کېږي
training = روزنه
training-verified = { $what }، د { $issuer } لخوا تایید شوې
signed = د سازمان لخوا لاسلیک شوی؛ تایید شوی
how-checked = دا څنګه وکتل شو
more = د دې ډلې په اړه نور
card-link = د معرفي کارت چاپ کړئ
card-title = د معرفي کارت
card-print = دا کارت چاپ کړئ
back = بېرته لټون ته
organisation = سازمان
address = ځای
online = آنلاین
day-mon = دوشنبه
day-tue = سه شنبه
day-wed = چهارشنبه
day-thu = پنجشنبه
day-fri = جمعه
day-sat = شنبه
day-sun = یکشنبه
category-conversation-cafe = د خبرو کافې
category-esol = د انګلیسي ټولګي
category-befriending = ملګرتیا
category-gardening = باغواني
category-arts-crafts = هنر او لاسي صنایع
category-peer-support = د همزولو ملاتړ
category-refugee-support = د کډوالو او پناه غوښتونکو ملاتړ
category-parents-children = مور او پلار او ماشومان
category-sport-exercise = سپورت او تمرین
category-mental-wellbeing = رواني روغتیا
category-advice = مشوره
category-digital-skills = د کمپیوټر مهارتونه
category-employment-skills = کار او مهارتونه
category-faith-community = دین او ټولنه
category-walking = د ګرځیدو ډله
category-music-singing = موسیقي او سندرې
category-lunch-club = د غرمې ډوډۍ کلب
category-cooking = پخلی
category-womens-group = د ښځو ډله
category-mens-group = د نارینه وو ډله
category-youth = ځوانان
category-older-people = زاړه خلک
category-volunteering = رضاکاري
list-separator = ،{" "}
clause-separator = ؛{" "}
