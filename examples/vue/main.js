import 'p2p-elements'
import {createApp} from 'vue'
import App from './App.vue'

createApp(App).mount('#app')
