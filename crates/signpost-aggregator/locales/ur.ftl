site-name = Signpost
finder-title = کوئی کمیونٹی گروپ تلاش کریں
finder-intro = آپ کے قریب مفت یا کم خرچ گروپ: گفتگو کیفے، انگریزی کی کلاسیں، پیدل چلنے کے گروپ، پناہ گزینوں کی مدد، اور بہت کچھ۔
language-label = زبان
language-button = زبان تبدیل کریں
exit = یہ صفحہ چھوڑیں
exit-hint = اس صفحے سے جلدی نکلیں
privacy = یہ ڈائریکٹری ہوم آفس، پولیس یا کسی اور ادارے کے ساتھ کچھ بھی شیئر نہیں کرتی۔ آپ جو تلاش کرتے ہیں وہ محفوظ یا درج نہیں کیا جاتا، اور کوئی کوکیز استعمال نہیں ہوتیں۔
skip = نتائج پر جائیں
skip-main = مرکزی مواد پر جائیں
postcode-label = پوسٹ کوڈ
postcode-hint = مثلاً LS8 5AB۔ صرف علاقہ جیسے LS8 بھی لکھ سکتے ہیں۔
distance-label = فاصلہ
distance-km = { $km } کلومیٹر
use-location = اس کے بجائے میری لوکیشن استعمال کریں
needs-legend = آپ کو کیا چاہیے؟
need-free = مفت
need-childcare = بچوں کی دیکھ بھال
need-evening-weekend = شام یا ہفتے کے آخر میں
need-no-gp = ڈاکٹر (GP) کے پاس رجسٹر ہونا ضروری نہیں
need-no-status = امیگریشن اسٹیٹس کے بارے میں نہیں پوچھتے
need-self-referral = میں خود ان سے رابطہ کر سکتا/سکتی ہوں
need-interpreting = مترجم
need-women = صرف خواتین کے لیے
language-legend = ایسا گروپ جو یہ زبان بولتا ہو
any-language = کوئی بھی زبان
kinds-legend = گروپ کی قسم
search-button = تلاش کریں
error-summary = ایک مسئلہ ہے
error-title = غلطی: { $title }
error-invalid-postcode = درست پوسٹ کوڈ لکھیں، جیسے LS8 5AB
error-unknown-postcode = یہ پوسٹ کوڈ نہیں ملا۔ چیک کر کے دوبارہ کوشش کریں
error-group-gone = یہ گروپ اب فہرست میں نہیں ہے۔ نیچے دوبارہ تلاش کریں۔
error-no-page = اس پتے پر کوئی صفحہ نہیں ہے۔ نیچے کوئی گروپ تلاش کریں۔
error-language = فہرست میں سے کوئی زبان منتخب کریں
error-location = ہم یہ لوکیشن استعمال نہیں کر سکے۔ اس کے بجائے پوسٹ کوڈ لکھیں
error-other = تلاش میں کچھ درست نہیں۔ چیک کر کے دوبارہ کوشش کریں
results-title = نتائج
results-count = { $count ->
    [0] کوئی گروپ نہیں ملا
    [one] 1 گروپ ملا
   *[other] { $count } گروپ ملے
}
results-near = { $place } سے { $km } کلومیٹر کے اندر
no-results-hint = زیادہ فاصلہ یا کم انتخاب آزمائیں۔
previous-page = پچھلا صفحہ
next-page = اگلا صفحہ
page-of = صفحہ { $page } از { $pages }
distance-away = { $km } کلومیٹر دور
meets = ملاقات کا وقت
cost = خرچ
cost-free = مفت
cost-amount = فی سیشن £{ $amount }
cost-paid = فیس ہے
languages = بولی جانے والی زبانیں
contact = کیسے شامل ہوں
self-referral-yes = آپ خود ان سے رابطہ کر سکتے ہیں۔
self-referral-no = اپنے GP یا لنک ورکر سے کہیں کہ آپ کو ریفر کریں۔
phone = فون
email = ای میل
website = ویب سائٹ
places = جگہیں
capacity-accepting = نئے لوگوں کو لے رہے ہیں
capacity-places = { $places ->
    [one] 1 جگہ
   *[other] { $places } جگہیں
}
capacity-not-accepting = ابھی نئے لوگوں کو نہیں لے رہے
capacity-unknown = معلوم نہیں
confirmed = تصدیق { $ago }
last-confirmed = آخری تصدیق { $ago }
ago-today = آج
ago-days = { $n ->
    [one] 1 دن پہلے
   *[other] { $n } دن پہلے
}
ago-weeks = { $n ->
    [one] 1 ہفتہ پہلے
   *[other] { $n } ہفتے پہلے
}
good-to-know = جاننا اچھا ہے
fact-childcare = بچوں کی دیکھ بھال دستیاب
fact-no-gp = GP کے پاس رجسٹریشن ضروری نہیں
fact-no-status = امیگریشن اسٹیٹس نہیں پوچھا جاتا
fact-interpreting-professional = پیشہ ور مترجم
fact-interpreting-volunteer = رضاکار مترجم
fact-step-free = سیڑھیوں کے بغیر رسائی
fact-travel-paid = سفر کا خرچ ادا کیا جاتا ہے
training = تربیت
training-verified = { $what }، { $issuer } سے تصدیق شدہ
signed = تنظیم کی طرف سے دستخط شدہ؛ تصدیق شدہ
how-checked = یہ کیسے جانچا گیا
more = اس گروپ کے بارے میں مزید
card-link = ریفرل کارڈ پرنٹ کریں
card-title = ریفرل کارڈ
card-print = یہ کارڈ پرنٹ کریں
back = تلاش پر واپس جائیں
organisation = تنظیم
address = جگہ
online = آن لائن
day-mon = پیر
day-tue = منگل
day-wed = بدھ
day-thu = جمعرات
day-fri = جمعہ
day-sat = ہفتہ
day-sun = اتوار
category-conversation-cafe = گفتگو کیفے
category-esol = انگریزی کی کلاسیں
category-befriending = دوستی اور ساتھ
category-gardening = باغبانی
category-arts-crafts = آرٹ اور دستکاری
category-peer-support = ہم عمر افراد کی مدد
category-refugee-support = پناہ گزینوں کی مدد
category-parents-children = والدین اور بچے
category-sport-exercise = کھیل اور ورزش
category-mental-wellbeing = ذہنی صحت
category-advice = مشورہ
category-digital-skills = کمپیوٹر کی مہارتیں
category-employment-skills = کام اور مہارتیں
category-faith-community = مذہب اور برادری
category-walking = پیدل چلنے کا گروپ
category-music-singing = موسیقی اور گانا
category-lunch-club = لنچ کلب
category-cooking = کھانا پکانا
category-womens-group = خواتین کا گروپ
category-mens-group = مردوں کا گروپ
category-youth = نوجوان
category-older-people = بزرگ
category-volunteering = رضاکاری
list-separator = ،{" "}
clause-separator = ؛{" "}
