site-name = Signpost
finder-title = Знайдіть громадську групу
finder-intro = Безкоштовні або недорогі групи поруч із вами: розмовні кафе, уроки англійської, групи для прогулянок, підтримка біженців та інше.
language-label = Мова
language-button = Змінити мову
exit = Вийти з цієї сторінки
exit-hint = Швидко залишити цю сторінку
privacy = Цей довідник нічим не ділиться з Міністерством внутрішніх справ, поліцією чи будь-яким іншим органом влади. Він не зберігає і не записує те, що ви шукаєте, і не використовує файли cookie.
skip = Перейти до результатів
skip-main = Перейти до основного вмісту
postcode-label = Поштовий індекс
postcode-hint = Наприклад LS8 5AB. Можна вказати лише район, як-от LS8.
distance-label = Відстань
distance-km = { $km } км
use-location = Використати моє місцезнаходження
needs-legend = Що вам потрібно?
need-free = Безкоштовно
need-childcare = Догляд за дітьми
need-evening-weekend = Вечорами або у вихідні
need-no-gp = Не потрібно бути зареєстрованим у лікаря (GP)
need-no-status = Не питають про імміграційний статус
need-self-referral = Я можу звернутися до них сам(а)
need-interpreting = Перекладач
need-women = Лише для жінок
language-legend = Група, що розмовляє
any-language = Будь-яка мова
kinds-legend = Вид групи
search-button = Шукати
referrer-summary = Для соціальних працівників (Link Workers) та інших, хто направляє людей: захист, навчання і місця
support-legend = Можуть безпечно підтримати
referrer-legend = Група
need-accepting = Зараз приймає нових людей (місця нещодавно підтверджені)
need-safeguarding-lead = Має призначену відповідальну особу з питань захисту
need-trauma-trained = Має навчання з травмоінформованого підходу, перевірене в надійного постачальника
error-summary = Виникла проблема
error-title = Помилка: { $title }
error-invalid-postcode = Введіть справжній поштовий індекс, наприклад LS8 5AB
error-unknown-postcode = Ми не знайшли цей поштовий індекс. Перевірте його та спробуйте ще раз
error-group-gone = Цієї групи більше немає в списку. Шукайте знову нижче.
error-no-page = За цією адресою немає сторінки. Знайдіть групу нижче.
error-language = Виберіть мову зі списку
error-location = Не вдалося використати це місцезнаходження. Введіть натомість поштовий індекс
error-other = У пошуку щось не так. Перевірте та спробуйте ще раз
results-title = Результати
results-count = { $count ->
    [0] Груп не знайдено
    [one] Знайдено { $count } групу
    [few] Знайдено { $count } групи
   *[other] Знайдено { $count } груп
}
results-near = у межах { $km } км від { $place }
no-results-hint = Спробуйте більшу відстань або менше вимог.
previous-page = Попередня сторінка
next-page = Наступна сторінка
page-of = Сторінка { $page } з { $pages }
distance-away = { $km } км звідси
meets = Коли зустрічається
cost = Вартість
cost-free = Безкоштовно
cost-amount = £{ $amount } за заняття
cost-paid = Платно
languages = Мови спілкування
contact = Як приєднатися
self-referral-yes = Ви можете звернутися до них самостійно.
self-referral-no = Попросіть свого лікаря (GP) або соціального працівника (Link Worker) направити вас.
phone = Телефон
email = Електронна пошта
website = Вебсайт
places = Місця
capacity-accepting = Приймають нових людей
capacity-places = { $places ->
    [one] { $places } місце
    [few] { $places } місця
   *[other] { $places } місць
}
capacity-not-accepting = Зараз не приймають нових людей
capacity-unknown = Невідомо
confirmed = підтверджено { $ago }
last-confirmed = востаннє підтверджено { $ago }
ago-today = сьогодні
ago-days = { $n ->
    [one] { $n } день тому
    [few] { $n } дні тому
   *[other] { $n } днів тому
}
ago-weeks = { $n ->
    [one] { $n } тиждень тому
    [few] { $n } тижні тому
   *[other] { $n } тижнів тому
}
good-to-know = Корисно знати
fact-childcare = Є догляд за дітьми
fact-no-gp = Реєстрація в GP не потрібна
fact-no-status = Про імміграційний статус не питають
fact-interpreting-professional = Професійні перекладачі
fact-interpreting-volunteer = Перекладачі-волонтери
fact-step-free = Доступ без сходинок
fact-travel-paid = Витрати на проїзд оплачуються
training = Навчання
training-verified = { $what }, перевірено в { $issuer }
safeguarding = Захист
safeguarding-supports = Можуть безпечно підтримати: { $list }
safeguarding-lead = Призначена відповідальна особа з питань захисту
safeguarding-policy = Письмова політика захисту
signed = Підписано організацією; перевірено
how-checked = Як це перевірено
more = Більше про цю групу
card-link = Надрукувати картку направлення
card-title = Картка направлення
card-print = Надрукувати цю картку
back = Назад до пошуку
organisation = Організація
address = Де
online = Онлайн
day-mon = Понеділок
day-tue = Вівторок
day-wed = Середа
day-thu = Четвер
day-fri = Пʼятниця
day-sat = Субота
day-sun = Неділя
category-conversation-cafe = Розмовне кафе
category-esol = Уроки англійської
category-befriending = Дружня підтримка
category-gardening = Садівництво
category-arts-crafts = Мистецтво та рукоділля
category-peer-support = Взаємна підтримка
category-refugee-support = Підтримка біженців і шукачів притулку
category-parents-children = Батьки та діти
category-sport-exercise = Спорт і вправи
category-mental-wellbeing = Психічне здоровʼя
category-advice = Консультації
category-digital-skills = Компʼютерні навички
category-employment-skills = Робота та навички
category-faith-community = Віра та громада
category-walking = Група прогулянок
category-music-singing = Музика та спів
category-lunch-club = Клуб обідів
category-cooking = Кулінарія
category-womens-group = Жіноча група
category-mens-group = Чоловіча група
category-youth = Молодь
category-older-people = Літні люди
category-volunteering = Волонтерство
list-separator = ,{" "}
clause-separator = ;{" "}

support-trafficking-survivors = Людей, які пережили торгівлю людьми та сучасне рабство
support-torture-survivors = Людей, які пережили катування
support-gender-based-violence = Людей, які пережили ґендерне та сексуальне насильство
support-domestic-abuse = Людей, які зазнають домашнього насильства
support-unaccompanied-minors = Дітей і молодь без супроводу дорослих
support-children = Дітей
support-adults-at-risk = Дорослих у групі ризику
support-mental-health-crisis = Людей у кризі психічного здоров’я
support-substance-use = Людей, які вживають наркотики чи алкоголь

achievement-trauma-informed-practice = Травмоінформований підхід
achievement-safeguarding-adults = Захист дорослих
achievement-safeguarding-children = Захист дітей
achievement-mental-health-first-aid = Перша допомога з психічного здоров’я
achievement-modern-slavery-awareness = Обізнаність щодо сучасного рабства
achievement-interpreting-in-services = Робота з перекладачами
