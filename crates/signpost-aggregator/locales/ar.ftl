site-name = Signpost
finder-title = ابحث عن مجموعة مجتمعية
finder-intro = مجموعات مجانية أو منخفضة التكلفة قريبة منك: مقاهي المحادثة، دروس اللغة الإنجليزية، مجموعات المشي، دعم اللاجئين، وغير ذلك.
language-label = اللغة
language-button = تغيير اللغة
exit = اخرج من هذه الصفحة
exit-hint = غادر هذه الصفحة بسرعة
privacy = هذا الدليل لا يشارك أي شيء مع وزارة الداخلية أو الشرطة أو أي جهة رسمية أخرى. لا يحفظ ولا يسجّل ما تبحث عنه، ولا يستخدم ملفات تعريف الارتباط.
skip = انتقل إلى النتائج
skip-main = انتقل إلى المحتوى الرئيسي
postcode-label = الرمز البريدي
postcode-hint = مثلاً LS8 5AB. يمكنك أيضاً كتابة المنطقة فقط مثل LS8.
distance-label = المسافة
distance-km = { $km } كم
use-location = استخدم موقعي بدلاً من ذلك
needs-legend = ماذا تحتاج؟
need-free = مجاني
need-childcare = رعاية الأطفال
need-evening-weekend = في المساء أو عطلة نهاية الأسبوع
need-no-gp = لا يلزم التسجيل لدى طبيب عام (GP)
need-no-status = لا يسألون عن وضع الهجرة
need-self-referral = يمكنني التواصل معهم بنفسي
need-interpreting = مترجم
need-women = للنساء فقط
language-legend = مجموعة تتحدث
any-language = أي لغة
kinds-legend = نوع المجموعة
search-button = ابحث
referrer-summary = لمنسقي الدعم (Link Workers) وغيرهم ممن يحيلون الأشخاص: الحماية والتدريب والأماكن
support-legend = يمكنهم تقديم دعم آمن لـ
referrer-legend = المجموعة
need-accepting = تقبل أشخاصاً جدداً الآن (الأماكن مؤكدة مؤخراً)
need-safeguarding-lead = لديها مسؤول حماية معيّن
need-trauma-trained = لديها تدريب على الرعاية المراعية للصدمات، تم التحقق منه لدى جهة تدريب موثوقة
error-summary = هناك مشكلة
error-title = خطأ: { $title }
error-invalid-postcode = أدخل رمزاً بريدياً صحيحاً، مثل LS8 5AB
error-unknown-postcode = لم نجد هذا الرمز البريدي. تحقق منه وحاول مرة أخرى
error-group-gone = هذه المجموعة لم تعد مدرجة. ابحث مرة أخرى أدناه.
error-no-page = لا توجد صفحة على هذا العنوان. ابحث عن مجموعة أدناه.
error-language = اختر لغة من القائمة
error-location = لم نتمكن من استخدام هذا الموقع. أدخل رمزاً بريدياً بدلاً من ذلك
error-other = هناك خطأ في البحث. تحقق منه وحاول مرة أخرى
results-title = النتائج
results-count = { $count ->
    [0] لم يتم العثور على مجموعات
    [one] تم العثور على مجموعة واحدة
    [two] تم العثور على مجموعتين
   *[other] تم العثور على { $count } مجموعات
}
results-near = على بعد { $km } كم من { $place }
no-results-hint = جرّب مسافة أكبر أو اختيارات أقل.
previous-page = الصفحة السابقة
next-page = الصفحة التالية
page-of = الصفحة { $page } من { $pages }
distance-away = على بعد { $km } كم
meets = مواعيد اللقاء
cost = التكلفة
cost-free = مجاني
cost-amount = { $amount } جنيه إسترليني للجلسة
cost-paid = هناك رسوم
languages = اللغات المستخدمة
contact = كيف تنضم
self-referral-yes = يمكنك التواصل معهم بنفسك.
self-referral-no = اطلب من طبيبك العام أو من منسق الدعم (Link Worker) إحالتك.
phone = الهاتف
email = البريد الإلكتروني
website = الموقع الإلكتروني
places = الأماكن
capacity-accepting = يقبلون أشخاصاً جدداً
capacity-places = { $places ->
    [one] مكان واحد
   *[other] { $places } أماكن
}
capacity-not-accepting = لا يقبلون أشخاصاً جدداً حالياً
capacity-unknown = غير معروف
confirmed = تم التأكيد { $ago }
last-confirmed = آخر تأكيد { $ago }
ago-today = اليوم
ago-days = { $n ->
    [one] منذ يوم واحد
   *[other] منذ { $n } أيام
}
ago-weeks = { $n ->
    [one] منذ أسبوع واحد
   *[other] منذ { $n } أسابيع
}
good-to-know = معلومات مفيدة
fact-childcare = تتوفر رعاية الأطفال
fact-no-gp = لا يلزم التسجيل لدى طبيب عام
fact-no-status = لا يسألون عن وضع الهجرة
fact-interpreting-professional = مترجمون محترفون
fact-interpreting-volunteer = مترجمون متطوعون
fact-step-free = دخول بدون درج
fact-travel-paid = تُدفع تكاليف المواصلات
training = التدريب
training-verified = { $what }، تم التحقق منه لدى { $issuer }
safeguarding = الحماية
safeguarding-supports = يمكنهم تقديم دعم آمن لـ: { $list }
safeguarding-lead = مسؤول حماية معيّن
safeguarding-policy = سياسة حماية مكتوبة
signed = موقّع من المنظمة؛ تم التحقق
how-checked = كيف تم التحقق
more = المزيد عن هذه المجموعة
card-link = اطبع بطاقة إحالة
card-title = بطاقة إحالة
card-print = اطبع هذه البطاقة
back = العودة إلى البحث
organisation = المنظمة
address = المكان
online = عبر الإنترنت
day-mon = الاثنين
day-tue = الثلاثاء
day-wed = الأربعاء
day-thu = الخميس
day-fri = الجمعة
day-sat = السبت
day-sun = الأحد
category-conversation-cafe = مقهى المحادثة
category-esol = دروس اللغة الإنجليزية
category-befriending = المصادقة والرفقة
category-gardening = البستنة
category-arts-crafts = الفنون والحرف اليدوية
category-peer-support = دعم الأقران
category-refugee-support = دعم اللاجئين وطالبي اللجوء
category-parents-children = الآباء والأطفال
category-sport-exercise = الرياضة والتمارين
category-mental-wellbeing = الصحة النفسية
category-advice = الاستشارات
category-digital-skills = مهارات الحاسوب
category-employment-skills = العمل والمهارات
category-faith-community = الإيمان والمجتمع
category-walking = مجموعة المشي
category-music-singing = الموسيقى والغناء
category-lunch-club = نادي الغداء
category-cooking = الطبخ
category-womens-group = مجموعة نسائية
category-mens-group = مجموعة رجالية
category-youth = الشباب
category-older-people = كبار السن
category-volunteering = التطوع
attribution = مواقع الرموز البريدية: تحتوي على بيانات Ordnance Survey © حقوق التاج وحقوق قاعدة البيانات 2025؛ وبيانات Royal Mail © حقوق Royal Mail وحقوق قاعدة البيانات 2025؛ وبيانات National Statistics © حقوق التاج وحقوق قاعدة البيانات 2025.
list-separator = ،{" "}
clause-separator = ؛{" "}

support-trafficking-survivors = الناجين من الاتجار بالبشر والعبودية الحديثة
support-torture-survivors = الناجين من التعذيب
support-gender-based-violence = الناجين من العنف القائم على النوع الاجتماعي والعنف الجنسي
support-domestic-abuse = الأشخاص الذين يتعرضون للعنف الأسري
support-unaccompanied-minors = الأطفال والشباب غير المصحوبين
support-children = الأطفال
support-adults-at-risk = البالغين المعرّضين للخطر
support-mental-health-crisis = الأشخاص الذين يمرون بأزمة صحة نفسية
support-substance-use = الأشخاص الذين يتعاطون المخدرات أو الكحول

achievement-trauma-informed-practice = الرعاية المراعية للصدمات
achievement-safeguarding-adults = حماية البالغين
achievement-safeguarding-children = حماية الأطفال
achievement-mental-health-first-aid = الإسعافات الأولية للصحة النفسية
achievement-modern-slavery-awareness = التوعية بالعبودية الحديثة
achievement-interpreting-in-services = العمل مع المترجمين الفوريين
